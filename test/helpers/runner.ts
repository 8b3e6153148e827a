// Real containers for tests: tsproc-test roots (busybox, empty usr-merged), state and data roots, a
// cgroup parent, `tsproc run` as a child process, and a check that nothing was left behind.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
  chmodSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostLayout } from '../../src/cgroup-layout.js';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { BIN } from './daemon.js';
import { removeDir } from './import-guards.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Why a test of real containers cannot run here, or undefined. */
export function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  // npm install builds the helper: its absence is a failure, not a reason to skip.
  if (!existsSync(new URL('../../../native/build/tsproc-helper', import.meta.url)))
    throw new Error('the native helper is not built: run `npm run build`');
  return undefined;
}

export function tempDir(t: Teardown, kind: string): string {
  const dir = mkdtempSync(`/tmp/tsproc-test-${kind}-`);
  chmodSync(dir, 0o755); // a root's / must be searchable by every user
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:alice:/home/alice:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nalice:x:1000:\nwheel:x:10:alice\nnogroup:x:65534:\n';

/** A root made from Debian's busybox-static: /bin/busybox, a link per applet, passwd and group. */
export function busyboxRoot(t: Teardown): string {
  const root = tempDir(t, 'busybox');
  mkdirSync(`${root}/bin`);
  mkdirSync(`${root}/etc`);
  mkdirSync(`${root}/tmp`, { mode: 0o1777 });
  chmodSync(`${root}/tmp`, 0o1777);
  copyFileSync('/bin/busybox', `${root}/bin/busybox`);
  chmodSync(`${root}/bin/busybox`, 0o755);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n');
  for (const a of applets) if (/^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox') symlinkSync('busybox', `${root}/bin/${a}`);
  writeFileSync(`${root}/etc/passwd`, PASSWD);
  writeFileSync(`${root}/etc/group`, GROUP);
  return root;
}

/** An empty root with usr-merged links (bin -> usr/bin, ...), to run with -v /usr:/usr:ro. */
export function usrRoot(t: Teardown): string {
  const root = tempDir(t, 'usr');
  mkdirSync(`${root}/usr`);
  for (const d of ['bin', 'lib', 'lib64', 'sbin']) symlinkSync(`usr/${d}`, `${root}/${d}`);
  return root;
}

export interface Started {
  child: ChildProcess;
  done: Promise<Ran>;
  exited: Promise<void>;
  output(): string;
}

/** Where RunOptions.fds start: high, as libuv may reuse low numbers while it sets up a child's stdio. */
export const FIRST_EXTRA_FD = 200;

export interface RunOptions {
  input?: string;
  /** descriptors the CLI inherits from FIRST_EXTRA_FD on, not close-on-exec (as a shell's `200<DIR` leaves them) */
  fds?: number[];
  /** the command that starts tsproc (default NODE_BIN); its arguments follow */
  launch?: string[];
}

/** tsproc as the README's node line starts it: a `--` before the bin, so Node reads none of our arguments. */
export const NODE_BIN = [process.execPath, '--', BIN];

export interface Sandbox {
  stateRoot: string;
  dataRoot: string;
  parent: string;
  /** `tsproc --state-root S --data-root D run --cgroup-parent P ARGS...`, to completion */
  run(args: string[], opts?: RunOptions): Promise<Ran>;
  /** `tsproc --state-root S --data-root D ARGS...` (any subcommand), to completion */
  cli(args: string[], opts?: RunOptions): Promise<Ran>;
  /** the containers' records (kept until rm unless --rm) */
  records(): string[];
  /** the same, started; `done` resolves with what `run` returns (when its output closes), `exited` when the CLI ends;
   *  `env`: added to the CLI's environment */
  start(args: string[], env?: NodeJS.ProcessEnv): Started;
  /** any subcommand, started */
  startCli(args: string[], opts?: RunOptions): Started;
  /** any subcommand, to completion, with a terminal of script(1)'s as its stdin, stdout and stderr
   *  (stdout holds both, with the terminal's \r\n line ends) */
  terminal(args: string[]): Promise<Ran>;
  /** what is left of running containers: mounts, cgroups, state, processes (empty when clean; records stay until rm) */
  leftovers(): string[];
  /** the container cgroups under the parent */
  cgroups(): string[];
}

/** `dataRoot`: somewhere else than /tmp/tsproc-test-data-SUFFIX (removed at the end all the same). */
export function sandbox(t: Teardown, opts: { dataRoot?: string } = {}): Sandbox {
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const stateRoot = `/tmp/tsproc-test-state-${suffix}`;
  const dataRoot = opts.dataRoot ?? `/tmp/tsproc-test-data-${suffix}`;
  const parent = `tsproc-test-${suffix}`;
  const hierarchies = planCgroup(hostLayout(), parent, 'x').hierarchies.map((h) => `${h.mountpoint}/${parent}`);
  const cgroups = () =>
    hierarchies.flatMap((dir) =>
      existsSync(dir)
        ? readdirSync(dir, { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => `${dir}/${e.name}`)
        : [],
    );
  /** what is left of running containers: mounts, cgroups, state, processes (empty when clean; records stay until rm) */
  const leftovers = () => {
    const left: string[] = [];
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(suffix)) left.push(`mount: ${line}`);
    for (const dir of cgroups()) left.push(`cgroup: ${dir}`);
    const running = `${stateRoot}/containers`;
    if (existsSync(running)) for (const e of readdirSync(running)) left.push(`state: ${running}/${e}`);
    for (const pid of ourProcesses()) left.push(`process: ${pid}`);
    return left;
  };
  const ourProcesses = () =>
    readdirSync('/proc').filter((pid) => {
      try {
        return /^[0-9]+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateRoot);
      } catch {
        return false; // gone
      }
    });
  t.teardown(async () => {
    // a test that failed midway, or left a container to the teardown, ends it here; its monitor cleans up
    const containers = `${stateRoot}/containers`;
    for (const id of existsSync(containers) ? readdirSync(containers) : []) {
      try {
        process.kill(Number(readFileSync(`${dataRoot}/containers/${id}/container.pid`, 'utf8')), 'SIGKILL');
      } catch {
        /* not started, or gone */
      }
    }
    await until('the monitors clean up', () => leftovers().length === 0, 30000).catch(() => undefined);
    // what the monitors did not clean up is a failure of the test, reported
    // once it is cleaned up here: our processes and the tasks of our cgroups killed, our mounts detached
    const left = leftovers();
    for (const pid of ourProcesses()) process.kill(Number(pid), 'SIGKILL');
    for (const dir of cgroups())
      for (const pid of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
      if (line.includes(suffix)) spawnSync('umount', ['-l', line.split(' ')[4]!]);
    await until('the tasks leave', () => cgroups().every((dir) => readFileSync(`${dir}/cgroup.procs`, 'utf8') === ''), 10000).catch(
      () => undefined,
    );
    for (const dir of cgroups()) rmdirSync(dir);
    for (const dir of hierarchies) if (existsSync(dir)) rmdirSync(dir);
    removeDir(stateRoot);
    removeDir(dataRoot); // by descriptor: a container may have made a tree deeper than PATH_MAX
    if (left.length > 0) throw new Error(`left behind after the test (the monitors did not clean it up):\n${left.join('\n')}`);
  });
  const global = ['--state-root', stateRoot, '--data-root', dataRoot];
  const start = (args: string[], sub = ['run', '--cgroup-parent', parent], opts: RunOptions = {}, env?: NodeJS.ProcessEnv) => {
    const input = opts.input;
    const fds = opts.fds ?? [];
    const launch = opts.launch ?? NODE_BIN;
    const extra: StdioOptions = fds.length > 0 ? [...Array<'ignore'>(FIRST_EXTRA_FD - 3).fill('ignore'), ...fds] : [];
    const stdio: StdioOptions = [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...extra];
    const child = spawn(launch[0]!, [...launch.slice(1), ...global, ...sub, ...args], {
      stdio,
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const done = new Promise<Ran>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    return { child, done, exited, output: () => stdout };
  };
  return {
    stateRoot,
    dataRoot,
    parent,
    run: (args, opts = {}) => start(args, undefined, opts).done,
    cli: (args, opts = {}) => start(args, [], opts).done,
    start: (args, env) => start(args, undefined, {}, env),
    startCli: (args, opts = {}) => start(args, [], opts),
    terminal: (args) => {
      const line = [...NODE_BIN, ...global, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      // stdin stays open: script(1) would pass its end on to the terminal
      const child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<Ran>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
    },
    records: () => (existsSync(`${dataRoot}/containers`) ? readdirSync(`${dataRoot}/containers`) : []),
    cgroups,
    leftovers,
  };
}

/** A process that runs (a zombie waiting for its reaper does not). */
export function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Wait for a condition (a deadline, not a timed assertion: the test fails only if it never holds). */
export async function until(what: string, cond: () => boolean, ms = 60000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The limit files of the container's own cgroup as seen inside it, on this host's layout. */
export function limitPaths(): { memory: string; pids: string; cpu: string; cpuset: string } {
  return hostLayout().kind === 'v2'
    ? {
        memory: '/sys/fs/cgroup/memory.max',
        pids: '/sys/fs/cgroup/pids.max',
        cpu: '/sys/fs/cgroup/cpu.max',
        cpuset: '/sys/fs/cgroup/cpuset.cpus',
      }
    : {
        memory: '/sys/fs/cgroup/memory/memory.limit_in_bytes',
        pids: '/sys/fs/cgroup/pids/pids.max',
        cpu: '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
        cpuset: '/sys/fs/cgroup/cpuset/cpuset.cpus',
      };
}
