// Scratch directories under DATA_ROOT/tmp for work that must be all-or-nothing (imports, removals): each names
// its owner (pid and start time), so a later import or gc can tell a live one from one left by a killed process.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeTree } from '../tree/remove-tree.js';

const OWNER = 'owner.json';

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export class Staging {
  readonly dir: string;

  constructor(tmpRoot: string, kind: 'import' | 'remove') {
    mkdirSync(tmpRoot, { recursive: true, mode: 0o700 });
    this.dir = mkdtempSync(join(tmpRoot, `${kind}-${process.pid}-`));
    writeFileSync(join(this.dir, OWNER), JSON.stringify({ pid: process.pid, start: startTime(process.pid) }));
  }

  /** Removes it, however deep the tree a layer left in it. */
  remove(): void {
    removeTree(this.dir);
  }

  /** Scratch directories whose owner still runs (of one kind, or all). */
  static live(tmpRoot: string, kind?: string): string[] {
    return Staging.#scan(tmpRoot).filter((s) => s.alive && (!kind || s.name.startsWith(`${kind}-`))).map((s) => s.name);
  }

  /** Removes what killed processes left; returns how many. */
  static sweep(tmpRoot: string): number {
    const dead = Staging.#scan(tmpRoot).filter((s) => !s.alive);
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
        const o = JSON.parse(readFileSync(join(tmpRoot, name, OWNER), 'utf8')) as { pid: number; start?: string };
        return { name, alive: startTime(o.pid) !== undefined && startTime(o.pid) === o.start };
      } catch {
        // no owner file: being made this instant (mkdtemp, then the file), or left half-made a while ago
        const age = Date.now() - (statSync(join(tmpRoot, name), { throwIfNoEntry: false })?.mtimeMs ?? 0);
        return { name, alive: age < 60_000 };
      }
    });
  }
}
