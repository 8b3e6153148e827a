// The first read of a new container against its later reads, tsproc and lxcfs in the same run: each
// round makes a new tsproc-test cgroup and, for each mount in turn, a new container (its own pid
// namespace) whose first open+read+close of the file is timed, then N more.
// Run by hand as root: node dist/bench/first-read.js [--rounds R] [--file proc/meminfo]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeCgroup } from '../test/helpers/container.js';
import { LXCFS, mountLxcfs, mountTsproc, unmount, type Mount } from './mounts.js';

const arg = (name: string, def: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : def);
const ROUNDS = Number(arg('--rounds', '15'));
const FILE = arg('--file', 'proc/meminfo');
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

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, makes cgroups and pid namespaces)');
  if (!existsSync(LXCFS)) throw new Error('lxcfs is not installed');
  const mounts: Mount[] = [];
  try {
    mounts.push(await mountTsproc());
    mounts.push(await mountLxcfs());
    const first = new Map<string, number[]>(mounts.map((m) => [m.name, []]));
    const later = new Map<string, number[]>(mounts.map((m) => [m.name, []]));
    const start = loadavg();
    for (let r = 0; r < ROUNDS; r++) {
      // A new cgroup each round, one new container per mount in it (in turn, each mount first in turn).
      const cg = makeCgroup(`views-first-${r}-${process.pid}`, { memory: (256 + r) * 2 ** 20, cpus: '0', quota: 0.5 });
      try {
        const join = cg.procs.map((f) => `echo $$ > ${f}`).join(' && ');
        for (const m of r % 2 ? [...mounts].reverse() : mounts) {
          const out = spawnSync(
            'sh',
            ['-c', `${join} && exec unshare --pid --fork python3 -c "$1" "$2" "$3"`, 'sh', READER, `${m.dir}/${FILE}`, String(LATER)],
            { encoding: 'utf8', timeout: 60_000 },
          );
          if (out.status !== 0) throw new Error(`reader failed: ${out.stderr}`);
          const us = out.stdout.trim().split(' ').map(Number);
          first.get(m.name)!.push(us[0]!);
          later.get(m.name)!.push(median(us.slice(1)));
        }
      } finally {
        cg.remove();
      }
    }
    console.log(
      `${FILE}, ${ROUNDS} new containers per mount, open+read+close in us (medians); load average ${start.map((x) => x.toFixed(2)).join(' ')} -> ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(`${'mount'.padEnd(8)}${'first'.padStart(9)}${'later'.padStart(9)}${'first/later'.padStart(13)}`);
    for (const m of mounts) {
      const f = median(first.get(m.name)!);
      const l = median(later.get(m.name)!);
      console.log(`${m.name.padEnd(8)}${f.toFixed(1).padStart(9)}${l.toFixed(1).padStart(9)}${(f / l).toFixed(2).padStart(13)}`);
    }
    const ratio = median(first.get('tsproc')!) / median(first.get('lxcfs')!);
    console.log(`first read, tsproc / lxcfs: ${ratio.toFixed(2)}`);
  } finally {
    for (const m of mounts) await unmount(m);
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.stack}`);
  process.exitCode = 1;
});
