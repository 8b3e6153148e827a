// Scratch directories under DATA_ROOT/tmp for work that must be all-or-nothing (imports, removals): each names
// its owner (pid and start time) in its own name, `KIND-PID-START-XXXXXX`, so it is never without one, not even
// between mkdtemp and its owner file (which adds the boot); a later import, ps or gc can tell a live one
// from one left by a killed process.
// `tsproc run` makes a container's record in one (kind `create`) and renames it into place whole.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning, ownIdentity, type ProcessIdentity } from '../../src/process-identity.js';
import { removeTree } from '../tree/remove-tree.js';

const OWNER = 'owner.json';

export type StagingKind = 'import' | 'remove' | 'create';

export class Staging {
  readonly dir: string;

  constructor(tmpRoot: string, kind: StagingKind) {
    mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
    const owner = ownIdentity();
    this.dir = mkdtempSync(join(tmpRoot, `${kind}-${owner.pid}-${owner.start}-`));
    writeFileSync(join(this.dir, OWNER), JSON.stringify(owner));
  }

  /** Moves the finished directory to `dest` (same filesystem, not there yet) in one rename, then drops the owner file. */
  publish(dest: string): void {
    renameSync(this.dir, dest);
    rmSync(join(dest, OWNER), { force: true });
  }

  /** Removes it, however deep the tree a layer left in it. */
  remove(): void {
    removeTree(this.dir);
  }

  /** Scratch directories whose owner still runs (of one kind, or all). */
  static live(tmpRoot: string, kind?: string): string[] {
    return Staging.#scan(tmpRoot)
      .filter((s) => s.alive && (!kind || s.name.startsWith(`${kind}-`)))
      .map((s) => s.name);
  }

  /** Removes what killed processes left (of one kind, or all); returns how many. */
  static sweep(tmpRoot: string, kind?: StagingKind): number {
    const dead = Staging.#scan(tmpRoot).filter((s) => !s.alive && (!kind || s.name.startsWith(`${kind}-`)));
    for (const s of dead) removeTree(join(tmpRoot, s.name));
    return dead.length;
  }

  static #scan(tmpRoot: string): Array<{ name: string; alive: boolean }> {
    let names: string[];
    try {
      names = readdirSync(tmpRoot);
    } catch {
      return [];
    }
    return names.map((name) => {
      try {
        const o = JSON.parse(readFileSync(join(tmpRoot, name, OWNER), 'utf8')) as ProcessIdentity;
        return { name, alive: isRunning(o) };
      } catch {
        // no owner file (killed between mkdtemp and writing it, or being made this instant): its name says whose
        const named = /^[a-z]+-([0-9]+)-([0-9]+)-[^-]+$/.exec(name);
        if (named) return { name, alive: isRunning({ pid: Number(named[1]), start: named[2]! }) };
        // a name of before (KIND-PID-XXXXXX): left half-made unless it is new
        const age = Date.now() - (statSync(join(tmpRoot, name), { throwIfNoEntry: false })?.mtimeMs ?? 0);
        return { name, alive: age < 60_000 };
      }
    });
  }
}
