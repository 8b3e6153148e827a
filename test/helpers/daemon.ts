// Starts `tsproc mount` on a fresh tsproc-test directory for a test, and always cleans it up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/tsproc.js', import.meta.url));

/**
 * Limits for hangs, not for speed: generous, because under QEMU's emulation (npm run test:cgroup2)
 * a daemon takes some 10 s to start and a busy machine can make that several times longer.
 */
const START_LIMIT_MS = 90_000;
const STOP_GRACE_MS = 20_000;
const RUN_LIMIT_MS = 60_000;

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface Daemon {
  dir: string;
  proc: ChildProcess;
  /** everything the daemon wrote to stderr so far */
  stderr(): string;
  /** resolves with the exit code (or 128+signal) */
  exited: Promise<number>;
}

/** A process in mountinfo at dir? */
export function mountedAt(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === dir);
}

function mountMinor(dir: string): number | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .reverse()
    .find((l) => l.split(' ')[4] === dir);
  return line ? Number(line.split(' ')[2]!.split(':')[1]) : undefined;
}

/** Last-resort cleanup: abort the connection (frees stuck readers), detach the mount, remove the directory. */
export function forceUnmount(dir: string): void {
  for (let i = 0; i < 4 && mountedAt(dir); i++) {
    const minor = mountMinor(dir);
    const abort = `/sys/fs/fuse/connections/${minor}/abort`;
    if (minor !== undefined) {
      if (readdirSync('/sys/fs/fuse/connections').length === 0)
        spawnSync('mount', ['-t', 'fusectl', 'fusectl', '/sys/fs/fuse/connections']);
      if (existsSync(abort)) writeFileSync(abort, '1');
    }
    spawnSync('umount', ['-l', dir]);
  }
}

/** The daemon's serving process (it answers the reads; the daemon's own pid is its supervisor's), as its log last named it. */
export function serverPid(d: Daemon): number {
  const all = [...d.stderr().matchAll(/serving process (?:\d+ → )?(\d+)/g)];
  if (all.length === 0) throw new Error(`the daemon named no serving process:\n${d.stderr()}`);
  return Number(all[all.length - 1]![1]);
}

export function tempMountpoint(): string {
  return mkdtempSync('/tmp/tsproc-test-mnt-');
}

/** Start the daemon and wait until it serves; the test's teardown stops it and removes everything. */
/** `bin`: another checkout's bin file (an upgrade's new code). */
export async function startDaemon(
  t: Teardown,
  opts: { dir?: string; args?: string[]; keepDir?: boolean; bin?: string } = {},
): Promise<Daemon> {
  const dir = opts.dir ?? tempMountpoint();
  const proc = spawn(process.execPath, [opts.bin ?? BIN, 'mount', dir, ...(opts.args ?? [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? osSignal(sig) : 0))));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), STOP_GRACE_MS).unref()),
      ]);
      if (!done) proc.kill('SIGKILL');
    }
    forceUnmount(dir);
    if (!opts.keepDir && existsSync(dir)) rmdirSync(dir);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in ${START_LIMIT_MS / 1000} s:\n${err}`)), START_LIMIT_MS);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/serving /.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited ${code} before serving:\n${err}`));
    });
  });
  return { dir, proc, stderr: () => err, exited };
}

function osSignal(sig: NodeJS.Signals): number {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[sig] ?? 0;
}

/** Run a command to completion (never from the daemon's process), with a timeout. */
export function run(cmd: string, args: string[], timeoutMs = RUN_LIMIT_MS): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Wait until cond() holds (polling), or fail after limitMs: for output that arrives asynchronously. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, limitMs = RUN_LIMIT_MS): Promise<void> {
  for (const end = Date.now() + limitMs; !(await cond());) {
    if (Date.now() > end) throw new Error(`${what}: not seen in ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
