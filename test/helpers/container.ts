// Test containers: tsproc-test cgroups with limits (v1, hybrid or pure v2, as the host has) and a probe
// process in its own pid namespace (`unshare --pid --fork`) placed in them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hostLayout } from '../../src/cgroup-layout.js';

const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));

export interface Limits {
  /** bytes, on the container's cgroup */
  memory?: number;
  /** bytes, on its parent */
  parentMemory?: number;
  /** swap room in bytes (v1: memsw = memory + swap) */
  swap?: number;
  /** cpuset, e.g. "0" */
  cpus?: string;
  /** CPUs' worth of quota, e.g. 0.5 */
  quota?: number;
}

export interface TestCgroup {
  /** the container cgroup's path below each hierarchy's root, e.g. /tsproc-test-views-123/ctr */
  path: string;
  /** cgroup.procs files to join it */
  procs: string[];
  /** a file of the container cgroup for a controller (v1 name of the controller) */
  file(controller: 'memory' | 'cpu' | 'cpuacct' | 'cpuset' | 'blkio' | 'pids', name: string): string;
  remove(): void;
}

const V1 = ['memory', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'pids'] as const;

/** Write a cgroup file, saying which when it fails. */
function put(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (err) {
    throw new Error(`cannot write ${value.trim()} to ${path}: ${(err as Error).message}`);
  }
}

/** A parent and a container cgroup, named tsproc-test-NAME, with the limits asked for. */
export function makeCgroup(name: string, l: Limits): TestCgroup {
  const layout = hostLayout();
  const parent = `/tsproc-test-${name}`;
  const path = `${parent}/ctr`;
  const made: string[] = [];
  const mk = (dir: string) => {
    if (!existsSync(dir)) mkdirSync(dir);
    made.push(dir);
  };
  if (layout.kind === 'v2') {
    const root = layout.unified!;
    // Enable the controllers for the parent and the container (those the kernel has).
    const available = readFileSync(`${root}/cgroup.controllers`, 'utf8').trim().split(/\s+/);
    const wanted = ['memory', 'cpu', 'cpuset', 'pids', 'io'].filter((c) => available.includes(c));
    const enable = (dir: string) => {
      for (const c of wanted) {
        try {
          writeFileSync(`${dir}/cgroup.subtree_control`, `+${c}`);
        } catch {
          // not delegable here: the views fall back for that figure
        }
      }
    };
    enable(root);
    mk(`${root}${parent}`);
    enable(`${root}${parent}`);
    mk(`${root}${path}`);
    const f = (n: string) => `${root}${path}/${n}`;
    if (l.parentMemory) put(`${root}${parent}/memory.max`, String(l.parentMemory));
    if (l.memory) put(f('memory.max'), String(l.memory));
    if (l.swap !== undefined && existsSync(f('memory.swap.max'))) put(f('memory.swap.max'), String(l.swap));
    if (l.cpus) put(f('cpuset.cpus'), l.cpus);
    if (l.quota) put(f('cpu.max'), `${Math.round(l.quota * 100000)} 100000`);
    return {
      path,
      procs: [f('cgroup.procs')],
      file: (_c, n) => f(n),
      remove: () => made.reverse().forEach(removeDir),
    };
  }
  const procs: string[] = [];
  const dirs = new Map<string, string>();
  for (const c of V1) {
    const mount = layout.v1[c];
    if (!mount) continue;
    mk(`${mount}${parent}`);
    mk(`${mount}${path}`);
    dirs.set(c, `${mount}${path}`);
    if (!procs.includes(`${mount}${path}/cgroup.procs`)) procs.push(`${mount}${path}/cgroup.procs`);
    if (c === 'cpuset') {
      // A v1 cpuset starts empty: give the parent all CPUs and memory nodes, then narrow the container.
      for (const [dir, cpus] of [
        [`${mount}${parent}`, readFileSync(`${mount}/cpuset.effective_cpus`, 'utf8')],
        [`${mount}${path}`, l.cpus ?? readFileSync(`${mount}/cpuset.effective_cpus`, 'utf8')],
      ] as const) {
        put(`${dir}/cpuset.cpus`, cpus);
        put(`${dir}/cpuset.mems`, readFileSync(`${mount}/cpuset.effective_mems`, 'utf8'));
      }
    }
  }
  const f = (c: string, n: string) => `${dirs.get(c)}/${n}`;
  const mem = layout.v1.memory;
  if (l.parentMemory && mem) put(`${mem}${parent}/memory.limit_in_bytes`, String(l.parentMemory));
  if (l.memory) put(f('memory', 'memory.limit_in_bytes'), String(l.memory));
  if (l.swap !== undefined && l.memory && existsSync(f('memory', 'memory.memsw.limit_in_bytes')))
    put(f('memory', 'memory.memsw.limit_in_bytes'), String(l.memory + l.swap));
  if (l.quota) {
    put(f('cpu', 'cpu.cfs_period_us'), '100000');
    put(f('cpu', 'cpu.cfs_quota_us'), String(Math.round(l.quota * 100000)));
  }
  return { path, procs, file: (c, n) => f(c, n), remove: () => made.reverse().forEach(removeDir) };
}

/** rmdir a cgroup, waiting for its last processes to be gone. */
function removeDir(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      if (existsSync(dir)) rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
      spawnSync('sleep', ['0.1']);
    }
  }
}

export interface Container {
  /** the host pid of the container's init (the probe) */
  pid: number;
  /** send a probe command, wait for its answer */
  ask<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T>;
  /** read a file as the init */
  read(path: string): Promise<string>;
  /** kill it and wait until it is gone */
  stop(): Promise<void>;
}

/** Start the probe as the init of a new pid namespace, inside `cg`. */
export async function startContainer(cg: TestCgroup): Promise<Container> {
  const join = cg.procs.map((f) => `echo $$ > ${f}`).join(' && ');
  const proc: ChildProcess = spawn('sh', ['-c', `${join} && exec unshare --pid --fork --kill-child "$@"`, 'sh', process.execPath, PROBE], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! });
  const pending: ((line: string) => void)[] = [];
  const failed: ((err: Error) => void)[] = [];
  const queued: string[] = [];
  lines.on('line', (l) => {
    failed.shift();
    const next = pending.shift();
    if (next) next(l);
    else queued.push(l);
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code) => {
      exitCode = code;
      for (const reject of failed.splice(0)) reject(new Error(`the container exited (${code})`));
      r();
    }),
  );
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const q = queued.shift();
      if (q !== undefined) return resolve(q);
      if (exitCode !== undefined) return reject(new Error(`the container exited (${exitCode})`));
      pending.push(resolve);
      failed.push(reject);
    });
  await nextLine();
  // unshare's only child is the init.
  const children = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const pid = children[0]!;
  const ask = async <T>(command: Record<string, unknown>): Promise<T> => {
    proc.stdin!.write(`${JSON.stringify(command)}\n`);
    const answer = JSON.parse(await nextLine()) as T & { error?: string };
    if (answer.error) throw new Error(`probe ${command.op}: ${answer.error}`);
    return answer;
  };
  return {
    pid,
    ask,
    read: async (path) => (await ask<{ text: string }>({ op: 'read', path })).text,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** A test cgroup's name, unique to this test process. */
export const uniqueName = (what: string): string => `views-${what}-${process.pid}`;

/** Remove tsproc-test-views-* cgroups left by killed test runs (their processes are gone). */
export function removeStaleCgroups(): void {
  const layout = hostLayout();
  const roots = layout.kind === 'v2' ? [layout.unified!] : Object.values(layout.v1);
  for (const root of new Set(roots)) {
    for (const d of readdirSync(root)) {
      const m = /^tsproc-test-views-.*-([0-9]+)$/.exec(d);
      if (!m || existsSync(`/proc/${m[1]}`)) continue;
      try {
        for (const sub of readdirSync(`${root}/${d}`, { withFileTypes: true }))
          if (sub.isDirectory()) rmdirSync(`${root}/${d}/${sub.name}`);
        rmdirSync(`${root}/${d}`);
      } catch {
        // still in use: leave it
      }
    }
  }
}
