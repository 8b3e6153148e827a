// For imports that may go wrong badly: the CLI under a memory cap and a deadline (a regression fails the test
// instead of eating the machine or hanging CI), a zstd that waits for the test before it decompresses (an import
// held in the middle, without a FIFO blob), trees deeper than PATH_MAX, and their removal.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdirSync, openSync, renameSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './daemon.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** Address space for one import: Node needs about 1 GiB of it; a read without bound fails within a second past 2. */
export const MEMORY_CAP = 2 * 2 ** 30;

export interface Capped extends SpawnSyncReturns<string> {
  /** killed at the deadline: the import hung */
  hung: boolean;
}

/** `tsproc --data-root DATA ARGS` under `prlimit --as` (MEMORY_CAP) and a deadline, then SIGKILL. */
export function cappedCli(dataRoot: string, args: string[], deadlineMs = 30_000): Capped {
  const r = spawnSync('prlimit', [`--as=${MEMORY_CAP}`, '--', process.execPath, BIN, '--data-root', dataRoot, ...args], {
    encoding: 'utf8', timeout: deadlineMs, killSignal: 'SIGKILL',
  });
  return Object.assign(r, { hung: r.signal === 'SIGKILL' && (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' });
}

/** `rm -rf` (coreutils walks by descriptor: any depth), for teardowns of trees Node's rmSync cannot remove. */
export function removeDir(dir: string): void {
  const r = spawnSync('rm', ['-rf', '--one-file-system', '--', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rm -rf ${dir}: ${r.stderr}`);
}

/**
 * DEPTH directories `d` one in another under dir, a file `bottom` at the end. Made bottom up, each level a new
 * directory the tree is renamed into: every call names a short path, none walks the depth (a shell's `cd` would
 * look its whole path up again at each level).
 */
export function deepTree(dir: string, depth: number): void {
  mkdirSync(dir, { recursive: true });
  const tree = join(dir, '.tree');
  const wrap = join(dir, '.wrap');
  mkdirSync(tree);
  writeFileSync(join(tree, 'bottom'), 'deep\n');
  for (let i = 0; i < depth; i++) {
    mkdirSync(wrap);
    renameSync(tree, join(wrap, 'd'));
    renameSync(wrap, tree);
  }
  renameSync(join(tree, 'd'), join(dir, 'd'));
  rmdirSync(tree);
}

export interface Gate {
  /** PATH with the gated zstd first, and where it writes its pid */
  env: NodeJS.ProcessEnv;
  pidFile: string;
  /** let the waiting zstd go on */
  open(): Promise<void>;
}

/**
 * Write the gate's line once its zstd has it open for reading: a FIFO opened without a reader blocks,
 * so it is opened non-blocking (ENXIO while there is none) and tried again for 30 s at most, after
 * which the test fails rather than hangs (its zstd never came, or died).
 */
async function openGate(gate: string): Promise<void> {
  for (const end = Date.now() + 30_000; ; ) {
    try {
      const fd = openSync(gate, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(fd, 'go\n');
      } finally {
        closeSync(fd);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > end) throw new Error(`the gated zstd never read its gate ${gate}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A `zstd` first on PATH that waits, before it decompresses anything, until the test opens the gate (a line
 * written to a FIFO of the test's own): the import is then blocked on its output, as on a slow disk or network.
 */
export function gatedZstd(t: Teardown, work: string): Gate {
  const real = spawnSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).stdout.trim();
  if (!real) throw new Error('zstd is not installed (Debian package zstd)');
  const bin = join(work, 'gated-bin');
  const gate = join(work, 'gate');
  const pidFile = `${gate}.pid`;
  mkdirSync(bin);
  spawnSync('mkfifo', [gate]);
  writeFileSync(join(bin, 'zstd'), `#!/bin/sh\necho $$ > '${pidFile}'\nread -r _ < '${gate}'\nexec '${real}' "$@"\n`);
  chmodSync(join(bin, 'zstd'), 0o755);
  t.teardown(() => {
    // a zstd left waiting (its import SIGKILLed): ours, started by this test
    spawnSync('sh', ['-c', `[ -s '${pidFile}' ] && kill -9 "$(cat '${pidFile}')" 2>/dev/null; true`]);
  });
  return {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    pidFile,
    open: () => openGate(gate),
  };
}
