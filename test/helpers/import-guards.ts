// For imports that may go wrong badly: the CLI under a memory cap and a deadline (a regression fails the test
// instead of eating the machine or hanging CI), a gate the import waits at before it decompresses (an import
// held in the middle, without a FIFO blob), trees deeper than PATH_MAX, and their removal.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN } from './daemon.js';

/** Address space for one import: Node needs about 1 GiB of it; a read without bound fails within a second past 2. */
export const MEMORY_CAP = 2 * 2 ** 30;

export interface Capped extends SpawnSyncReturns<string> {
  /** killed at the deadline: the import hung */
  hung: boolean;
}

/** `tsproc --data-root DATA ARGS` under `prlimit --as` (MEMORY_CAP) and a deadline, then SIGKILL. */
export function cappedCli(dataRoot: string, args: string[], deadlineMs = 30_000): Capped {
  const r = spawnSync('prlimit', [`--as=${MEMORY_CAP}`, '--', process.execPath, BIN, '--data-root', dataRoot, ...args], {
    encoding: 'utf8',
    timeout: deadlineMs,
    killSignal: 'SIGKILL',
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
  /** the environment that makes an import wait at the gate before it decompresses a layer */
  env: NodeJS.ProcessEnv;
  /** where the waiting import writes its pid */
  pidFile: string;
  /** let the waiting import go on */
  open(): Promise<void>;
}

/**
 * An import that waits, before it decompresses a compressed layer, until the test opens the gate (runner/test-hooks.ts,
 * testGate): it is then blocked in the middle of a layer, as on a slow disk or network.
 */
export function importGate(work: string): Gate {
  const gate = join(work, 'gate');
  return {
    env: { ...process.env, TSPROC_TEST_WAIT_AT: 'decompress', TSPROC_TEST_GATE: gate },
    pidFile: `${gate}.pid`,
    open: () => writeFile(gate, ''),
  };
}
