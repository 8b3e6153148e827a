// tsproc and lxcfs mounted on tsproc-test temp dirs for a bench, and taken down again.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, rmdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SERVED_FILES } from '../src/served-files.js';
import { makeCgroup, type Limits, type TestCgroup } from '../test/helpers/container.js';

export const BIN = fileURLToPath(new URL('../../bin/tsproc.js', import.meta.url));
export const LXCFS = '/usr/bin/lxcfs';

/** The files a mount serves (src/served-files.ts), in the order the benches print them. */
export const BENCH_FILES: readonly string[] = (
  ['meminfo', 'cpuinfo', 'stat', 'uptime', 'loadavg', 'swaps', 'diskstats', 'cpu-online'] as const
).map((name) => SERVED_FILES[name]);

/** A command line a bench cannot run: said in one line, exit status 2. */
export class UsageError extends Error {}

/** A numeric flag's value checked: a finite number of at least `min`; a whole one if `integer` (by default when `min` is 1 or more). */
export function checkedNumber(flag: string, given: string | undefined, min: number, integer = min >= 1): number {
  const n = Number(given);
  if (given === undefined || given.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw new UsageError(`${flag}: ${JSON.stringify(given ?? '')} is not ${integer ? 'a whole number' : 'a number'} of at least ${min}`);
  return n;
}

/** A numeric flag's value (`--reads 1000`), checked as `checkedNumber` does, or `def` when it is not given. */
export const numberArg = (name: string, def: number, min = 0, integer = min >= 1): number =>
  process.argv.includes(name) ? checkedNumber(name, process.argv[process.argv.indexOf(name) + 1], min, integer) : def;

/** A string flag's value (`--file proc/stat`), or `def` when it is not given. */
export const stringArg = (name: string, def: string): string =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : def;

/** True in the module node was started with (a bench's CLI), false where it is imported. */
export const isMain = (url: string): boolean => process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(url);

/**
 * A bench's command line: when `url` is the script node was started with, run `main`; a failure is
 * printed and exits 1, a bad flag (UsageError) in one line with exit status 2.
 */
export function runMain(url: string, main: () => Promise<void>): void {
  if (!isMain(url)) return;
  main().catch((err: Error) => {
    const usage = err instanceof UsageError;
    console.error(`bench: ${usage ? err.message : (err.stack ?? err.message)}`);
    process.exitCode = usage ? 2 : 1;
  });
}

/** The middle value (of an even count, the mean of the two middle ones). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The load average as `1.23 1.10 0.98`. */
export const loadAverage = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** argv that runs `cmd...` as the init of a new pid namespace in the cgroup (a container). */
export const inContainer = (cg: TestCgroup, cmd: string[]): string[] => [
  'sh',
  '-c',
  `${cg.procs.map((f) => `echo $$ > ${f}`).join(' && ')} && exec unshare --pid --fork "$@"`,
  'sh',
  ...cmd,
];

/** A tsproc-test cgroup (test/helpers/container.ts makeCgroup), removed at clean-up. */
export function benchCgroup(name: string, limits: Limits): TestCgroup {
  const cg = makeCgroup(name, limits);
  atCleanUp(() => cg.remove());
  return cg;
}

export interface Mount {
  name: string;
  dir: string;
  proc: ChildProcess;
}

/** Start `cmd args(dir)` on a new tsproc-test directory; resolves once a read of it works. `stderr`: a descriptor for its messages. */
export async function mount(name: string, cmd: string, args: (dir: string) => string[], stderr?: number): Promise<Mount> {
  // the bench's pid in the name: what a bench left is told from another's (test/bench/bench.test.ts)
  const dir = mkdtempSync(`/tmp/tsproc-test-bench-${name}-${process.pid}-`);
  const m = { name, dir, proc: spawn(cmd, args(dir), { stdio: ['ignore', 'ignore', stderr ?? 'ignore'] }) };
  atCleanUp(() => unmount(m));
  for (let i = 0; i < 300; i++) {
    if (spawnSync('cat', [`${dir}/proc/meminfo`], { timeout: 2000 }).status === 0) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not mount`);
}

/** `tsproc mount DIR` with extra flags. */
export const mountTsproc = (flags: string[] = [], stderr?: number): Promise<Mount> =>
  mount('tsproc', process.execPath, (d) => [BIN, 'mount', d, ...flags], stderr);

/** Debian's lxcfs as the earlier figures ran it (`lxcfs -f --enable-cfs -l`). */
export const mountLxcfs = (): Promise<Mount> => mount('lxcfs', LXCFS, (d) => ['-f', '--enable-cfs', '-l', '-p', `${d}.pid`, d]);

/** SIGTERM, then unmount (lazily, if it is still there) and remove its directory; nothing when done already. */
export async function unmount(m: Mount): Promise<void> {
  const exited = new Promise((r) => (m.proc.exitCode !== null || m.proc.signalCode !== null ? r(undefined) : m.proc.once('exit', r)));
  m.proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  spawnSync('umount', ['-l', m.dir]);
  rmSync(`${m.dir}.pid`, { force: true });
  if (existsSync(m.dir)) rmdirSync(m.dir);
}

/**
 * What a bench made (mounts, cgroups, directories), undone in reverse order by `cleanUp`, which the
 * bench calls in its `finally` and which SIGINT or SIGTERM (Ctrl-C) also runs before the bench exits.
 */
const undo: (() => void | Promise<void>)[] = [];
let signalsHeld = false;
let cleaning: Promise<void> | undefined;

/** Keep `fn` to run at clean-up (it must do nothing when what it undoes is already gone). */
export function atCleanUp(fn: () => void | Promise<void>): void {
  undo.push(fn);
  if (signalsHeld) return;
  signalsHeld = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      console.error(`bench: ${sig}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
}

/**
 * Undo everything kept by atCleanUp, latest first; a failure is printed and the rest still run. A
 * clean-up asked for while one runs (the bench's `finally` and a Ctrl-C) waits for that one.
 */
export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let fn = undo.pop(); fn; fn = undo.pop()) {
      try {
        await fn();
      } catch (err) {
        console.error(`bench: clean-up: ${(err as Error).message}`);
      }
    }
  })().finally(() => (cleaning = undefined));
  return cleaning;
}
