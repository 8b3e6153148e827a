// The first read of a new container against its later reads, tsproc and lxcfs in the same run: each
// round makes a new tsproc-test cgroup and, for each mount in turn, a new container (its own pid
// namespace) whose first open+read+close of the file is timed, then N more.
// Run by hand as root: node dist/bench/first-read.js [--rounds R] [--file proc/meminfo] [--floor]
import { spawnSync } from 'node:child_process';
import { buildNullFuse } from './floor.js';
import { existsSync } from 'node:fs';
import {
  LXCFS,
  benchCgroup,
  cleanUp,
  inContainer,
  loadAverage,
  median,
  mount,
  mountLxcfs,
  mountTsproc,
  numberArg,
  stringArg,
  type Mount,
  runMain,
} from './mounts.js';

const LATER = 20;

// Its own first calls warmed on a kernel file first, a pause for its CPU quota; then the first read of the mount and LATER more, in us.
const READER = `
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
def once(p):
    fd = os.open(p, os.O_RDONLY)
    while os.read(fd, 65536): pass
    os.close(fd)
once('/proc/self/stat'); once('/proc/self/stat')
# Python's start-up used much of the container's CPU quota (half a CPU): a new period before timing
time.sleep(0.25)
us = []
for _ in range(n + 1):
    t = time.perf_counter(); once(path); us.append((time.perf_counter() - t) * 1e6)
print(' '.join('%.1f' % x for x in us))
`;

/** Per mount: the median first read of a new container and the median of its later reads, in us. */
export type FirstReads = Map<string, { first: number; later: number }>;

/**
 * `rounds` times, a new cgroup and in it, for each mount in turn (each mount first in turn), a new
 * container that reads `file` (a path below the mount) once and then LATER times.
 */
export function firstReads(mounts: Pick<Mount, 'name' | 'dir'>[], rounds: number, file: string): FirstReads {
  const first = new Map<string, number[]>(mounts.map((m) => [m.name, []]));
  const later = new Map<string, number[]>(mounts.map((m) => [m.name, []]));
  for (let r = 0; r < rounds; r++) {
    const cg = benchCgroup(`views-first-${r}-${process.pid}`, { memory: (256 + r) * 2 ** 20, cpus: '0', quota: 0.5 });
    try {
      for (const m of r % 2 ? [...mounts].reverse() : mounts) {
        const argv = inContainer(cg, ['python3', '-c', READER, `${m.dir}/${file}`, String(LATER)]);
        const out = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
        if (out.status !== 0) throw new Error(`reader failed (${out.status ?? out.signal}): ${out.stderr}`);
        const us = out.stdout.trim().split(' ').map(Number);
        first.get(m.name)!.push(us[0]!);
        later.get(m.name)!.push(median(us.slice(1)));
      }
    } finally {
      cg.remove();
    }
  }
  return new Map(mounts.map((m) => [m.name, { first: median(first.get(m.name)!), later: median(later.get(m.name)!) }]));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, makes cgroups and pid namespaces)');
  if (!existsSync(LXCFS)) throw new Error('lxcfs is not installed');
  const rounds = numberArg('--rounds', 15, 1);
  const file = stringArg('--file', 'proc/meminfo');
  try {
    const mounts: Pick<Mount, 'name' | 'dir'>[] = [await mountTsproc(), await mountLxcfs()];
    // --floor: the same for the kernel's own file and a FUSE daemon that does no work (bench/null-fuse.c)
    if (process.argv.includes('--floor')) {
      const nullFuse = buildNullFuse();
      mounts.push(await mount('null', nullFuse, (d) => [d, '2']), { name: 'kernel', dir: '' });
    }
    const start = loadAverage();
    const reads = firstReads(mounts, rounds, file);
    console.log(`${file}, ${rounds} new containers per mount, open+read+close in us (medians); load average ${start} -> ${loadAverage()}`);
    console.log(`${'mount'.padEnd(8)}${'first'.padStart(9)}${'later'.padStart(9)}${'first/later'.padStart(13)}`);
    for (const [name, { first: f, later: l }] of reads)
      console.log(`${name.padEnd(8)}${f.toFixed(1).padStart(9)}${l.toFixed(1).padStart(9)}${(f / l).toFixed(2).padStart(13)}`);
    console.log(`first read, tsproc / lxcfs: ${(reads.get('tsproc')!.first / reads.get('lxcfs')!.first).toFixed(2)}`);
  } finally {
    await cleanUp();
  }
}

runMain(import.meta.url, main);
