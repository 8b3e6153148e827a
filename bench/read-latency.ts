// Read latency and throughput of tsproc's files against Debian's lxcfs and the kernel's /proc, same run.
// Run by hand as root: node dist/bench/read-latency.js [--iterations N] [--seconds S] [--threads N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pidusage from 'pidusage';
import { BENCH_FILES, LXCFS, benchCgroup, cleanUp, inContainer, runMain, mountLxcfs, mountTsproc, numberArg } from './mounts.js';
import { family } from './memory.js';

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
// The load: P processes (forked from this one, so none waits for an interpreter to start) read the
// file in a loop for S seconds, all started at once; prints the count of reads.
const LOADER = `
import os, sys, time
path, procs, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
go_r, go_w = os.pipe()
out_r, out_w = os.pipe()
for _ in range(procs):
    if os.fork() == 0:
        os.read(go_r, 1)
        end = time.monotonic() + secs; n = 0
        while time.monotonic() < end:
            fd = os.open(path, os.O_RDONLY)
            while os.read(fd, 65536): pass
            os.close(fd); n += 1
        os.write(out_w, b'%d\\n' % n)
        os._exit(0)
os.write(go_w, b'x' * procs)
for _ in range(procs):
    _, status = os.wait()
    if status != 0: sys.exit('a reader failed')
os.close(out_w)
out = b''
while True:
    chunk = os.read(out_r, 65536)
    if not chunk: break
    out += chunk
print(sum(int(x) for x in out.split()))
`;

/** Where a reader runs: the host ([]), or a limited cgroup in its own pid namespace (inContainer). */
interface Place {
  name: string;
  prefix: string[];
}

/** Mean microseconds of `n` open+read+close of `path`, after 50 warm-up reads. */
function meanLatency(prefix: string[], path: string, n: number): number {
  const argv = [...prefix, 'python3', '-c', READER, path, String(n)];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reader failed on ${path}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Reads per second of `procs` processes (under `prefix`: [] on the host) reading `path` in a loop for the same `seconds`. */
export function throughput(prefix: readonly string[], path: string, procs: number, seconds: number): number {
  const argv = [...prefix, 'python3', '-c', LOADER, path, String(procs), String(seconds)];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`readers of ${path} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return Number(r.stdout.trim()) / seconds;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, creates a cgroup)');
  const iterations = numberArg('--iterations', 2000, 1);
  const seconds = numberArg('--seconds', 3, 0.01);
  const threads = numberArg('--threads', 0, 0, true);
  try {
    const tsproc = await mountTsproc(threads ? ['--threads', String(threads)] : []);
    const lxcfs = existsSync(LXCFS) ? await mountLxcfs() : undefined;
    const cg = benchCgroup(`bench-${process.pid}`, { memory: 512 * 2 ** 20, cpus: '0', quota: 0.5 });
    const places: Place[] = [
      { name: 'host', prefix: [] },
      { name: 'container', prefix: inContainer(cg, []) },
    ];
    console.log(`open+read+close, mean of ${iterations} reads, microseconds (lower is better); ratio = tsproc / lxcfs`);
    for (const place of places) {
      console.log(`\nreader on the ${place.name}:`);
      console.log(`${'file'.padEnd(32)}${'kernel'.padStart(9)}${'lxcfs'.padStart(9)}${'tsproc'.padStart(9)}${'ratio'.padStart(8)}`);
      for (const f of BENCH_FILES) {
        const k = meanLatency(place.prefix, `/${f}`, iterations);
        const l = lxcfs ? meanLatency(place.prefix, `${lxcfs.dir}/${f}`, iterations) : NaN;
        const t = meanLatency(place.prefix, `${tsproc.dir}/${f}`, iterations);
        console.log(
          `${f.padEnd(32)}${k.toFixed(1).padStart(9)}${l.toFixed(1).padStart(9)}${t.toFixed(1).padStart(9)}${(t / l).toFixed(2).padStart(8)}`,
        );
      }
    }
    console.log(`\nthroughput, 8 reader processes for ${seconds} s, reads/s (higher is better); ratio = tsproc / lxcfs`);
    for (const place of places) {
      for (const f of ['proc/meminfo', 'proc/stat']) {
        const l = lxcfs ? throughput(place.prefix, `${lxcfs.dir}/${f}`, 8, seconds) : NaN;
        const t = throughput(place.prefix, `${tsproc.dir}/${f}`, 8, seconds);
        console.log(
          `${place.name.padEnd(10)}${f.padEnd(16)} lxcfs ${l.toFixed(0).padStart(7)}  tsproc ${t.toFixed(0).padStart(7)}  ratio ${(t / l).toFixed(2)}`,
        );
      }
    }
    const parts = await Promise.all(family(tsproc.proc.pid!).map((pid) => pidusage(pid)));
    const lusage = lxcfs ? await pidusage(lxcfs.proc.pid!) : undefined;
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
    await cleanUp();
  }
}

runMain(import.meta.url, main);
