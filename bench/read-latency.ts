// Read latency and throughput of tsproc's files against Debian's lxcfs and the kernel's /proc, same run.
// Run by hand as root: node dist/bench/read-latency.js [--iterations N] [--seconds S] [--threads N]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pidusage from 'pidusage';
import { hostLayout } from '../src/cgroup-layout.js';
import { BENCH_FILES, numberArg } from './mounts.js';

const BIN = fileURLToPath(new URL('../../bin/tsproc.js', import.meta.url));

const ITER = numberArg('--iterations', 2000);
const SECONDS = numberArg('--seconds', 3);
const THREADS = numberArg('--threads', 0);

// The reader: open + read to EOF + close, N times; prints microseconds per read.
const READER = `
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
def once():
    fd = os.open(path, os.O_RDONLY)
    while os.read(fd, 65536): pass
    os.close(fd)
for _ in range(50): once()
t = time.perf_counter()
for _ in range(n): once()
print((time.perf_counter() - t) / n * 1e6)
`;
// The load: read the file in a loop for S seconds; prints the count.
const LOADER = `
import os, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
end = time.monotonic() + secs; n = 0
while time.monotonic() < end:
    fd = os.open(path, os.O_RDONLY)
    while os.read(fd, 65536): pass
    os.close(fd); n += 1
print(n)
`;

interface Target {
  name: string;
  root: string;
  proc?: ChildProcess;
}

/** Where a reader runs: the host, or a limited tsproc-test cgroup in its own pid namespace (a container). */
interface Place {
  name: string;
  prefix: string[];
}

async function waitFor(pred: () => boolean, what: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readsOk(root: string): boolean {
  return spawnSync('cat', [`${root}/proc/meminfo`], { timeout: 2000 }).status === 0;
}

async function startTsproc(): Promise<Target> {
  const root = mkdtempSync('/tmp/tsproc-test-bench-tsproc-');
  const args = [BIN, 'mount', root, ...(THREADS ? ['--threads', String(THREADS)] : [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(() => readsOk(root), 'tsproc to mount');
  return { name: 'tsproc', root, proc };
}

async function startLxcfs(): Promise<Target | undefined> {
  if (!existsSync('/usr/bin/lxcfs')) return undefined;
  const root = mkdtempSync('/tmp/tsproc-test-bench-lxcfs-');
  const proc = spawn('/usr/bin/lxcfs', ['-f', '--enable-cfs', '-l', '-p', `${root}.pid`, root], { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitFor(() => readsOk(root), 'lxcfs to mount');
  return { name: 'lxcfs', root, proc };
}

async function stop(t: Target): Promise<void> {
  if (t.proc) {
    t.proc.kill('SIGTERM');
    await new Promise((r) => t.proc!.once('exit', r));
  }
  spawnSync('umount', ['-l', t.root]);
  rmSync(`${t.root}.pid`, { force: true });
  rmdirSync(t.root);
}

/** A tsproc-test cgroup with a 512 MiB memory limit and half a CPU, and the command prefix to run in it. */
function makeContainerPlace(): { place: Place; remove: () => void } {
  const layout = hostLayout();
  const name = `tsproc-test-bench-${process.pid}`;
  const dirs: string[] = [];
  const procsFiles: string[] = [];
  if (layout.kind === 'v2') {
    const d = `${layout.unified}/${name}`;
    mkdirSync(d);
    dirs.push(d);
    writeFileSync(`${d}/memory.max`, String(512 << 20));
    writeFileSync(`${d}/cpu.max`, '50000 100000');
    procsFiles.push(`${d}/cgroup.procs`);
  } else {
    for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'pids'] as const) {
      const base = layout.v1[c];
      if (!base || dirs.includes(`${base}/${name}`)) continue;
      const d = `${base}/${name}`;
      mkdirSync(d);
      dirs.push(d);
      procsFiles.push(`${d}/cgroup.procs`);
      if (c === 'memory') writeFileSync(`${d}/memory.limit_in_bytes`, String(512 << 20));
      if (c === 'cpu') writeFileSync(`${d}/cpu.cfs_quota_us`, '50000');
      if (c === 'cpuset') {
        writeFileSync(`${d}/cpuset.cpus`, '0');
        writeFileSync(`${d}/cpuset.mems`, '0');
      }
    }
  }
  const join = procsFiles.map((f) => `echo $$ > ${f}`).join('; ');
  return {
    place: { name: 'container', prefix: ['sh', '-c', `${join}; exec unshare --pid --fork "$@"`, 'sh'] },
    remove: () => dirs.reverse().forEach((d) => rmdirSync(d)),
  };
}

function latency(place: Place, path: string): number {
  const r = spawnSync(
    place.prefix[0] ?? 'python3',
    [...place.prefix.slice(1), ...(place.prefix.length ? ['python3'] : []), '-c', READER, path, String(ITER)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`reader failed on ${path}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

async function throughput(place: Place, path: string, procs: number): Promise<number> {
  const counts = await Promise.all(
    Array.from(
      { length: procs },
      () =>
        new Promise<number>((resolve, reject) => {
          const p = spawn(
            place.prefix[0] ?? 'python3',
            [...place.prefix.slice(1), ...(place.prefix.length ? ['python3'] : []), '-c', LOADER, path, String(SECONDS)],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          );
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`loader exited ${code}`))));
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0) / SECONDS;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, creates a cgroup)');
  const tsproc = await startTsproc();
  const lxcfs = await startLxcfs();
  const container = makeContainerPlace();
  const places: Place[] = [{ name: 'host', prefix: [] }, container.place];
  try {
    console.log(`open+read+close, mean of ${ITER} reads, microseconds (lower is better); ratio = tsproc / lxcfs`);
    for (const place of places) {
      console.log(`\nreader on the ${place.name}:`);
      console.log(`${'file'.padEnd(32)}${'kernel'.padStart(9)}${'lxcfs'.padStart(9)}${'tsproc'.padStart(9)}${'ratio'.padStart(8)}`);
      for (const f of BENCH_FILES) {
        const k = latency(place, `/${f}`);
        const l = lxcfs ? latency(place, `${lxcfs.root}/${f}`) : NaN;
        const t = latency(place, `${tsproc.root}/${f}`);
        console.log(
          `${f.padEnd(32)}${k.toFixed(1).padStart(9)}${l.toFixed(1).padStart(9)}${t.toFixed(1).padStart(9)}${(t / l).toFixed(2).padStart(8)}`,
        );
      }
    }
    console.log(`\nthroughput, 8 reader processes for ${SECONDS} s, reads/s (higher is better); ratio = tsproc / lxcfs`);
    for (const place of places) {
      for (const f of ['proc/meminfo', 'proc/stat']) {
        const l = lxcfs ? await throughput(place, `${lxcfs.root}/${f}`, 8) : NaN;
        const t = await throughput(place, `${tsproc.root}/${f}`, 8);
        console.log(
          `${place.name.padEnd(10)}${f.padEnd(16)} lxcfs ${l.toFixed(0).padStart(7)}  tsproc ${t.toFixed(0).padStart(7)}  ratio ${(t / l).toFixed(2)}`,
        );
      }
    }
    // tsproc is two processes: the supervisor and the serving process it runs (its only child)
    const supervisor = tsproc.proc!.pid!;
    const serving = readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const parts = await Promise.all([supervisor, ...serving].map((pid) => pidusage(pid)));
    const lusage = lxcfs ? await pidusage(lxcfs.proc!.pid!) : undefined;
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `\nresident memory after the run: tsproc ${mib(parts.reduce((n, u) => n + u.memory, 0))} MiB (supervisor ${mib(parts[0]!.memory)}, serving ${
        parts
          .slice(1)
          .map((u) => mib(u.memory))
          .join(' + ') || '-'
      }), lxcfs ${lusage ? mib(lusage.memory) : '-'} MiB`,
    );
  } finally {
    container.remove();
    await stop(tsproc);
    if (lxcfs) await stop(lxcfs);
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
