// Read latency of tsproc against lxcfs measured interleaved: one reader alternates short batches on the
// two mounts, so load that comes and goes on a shared machine weighs on both alike; medians of batches.
// Run by hand as root: node dist/bench/views-latency.js [--rounds N] [--batch N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { makeCgroup, type TestCgroup } from '../test/helpers/container.js';
import { BENCH_FILES, LXCFS, mountLxcfs, mountTsproc, unmount, numberArg } from './mounts.js';

const ROUNDS = numberArg('--rounds', 40);
const BATCH = numberArg('--batch', 25);

// For each file: ROUNDS times, a batch of reads from each mount in turn; prints "file median_a median_b".
const READER = `
import os, sys, time
a, b, files, rounds, batch = sys.argv[1], sys.argv[2], sys.argv[3].split(','), int(sys.argv[4]), int(sys.argv[5])
def once(p):
    fd = os.open(p, os.O_RDONLY)
    while os.read(fd, 65536): pass
    os.close(fd)
def timed(p):
    t = time.perf_counter()
    for _ in range(batch): once(p)
    return (time.perf_counter() - t) / batch * 1e6
for f in files:
    for _ in range(10): once(a + '/' + f); once(b + '/' + f)
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(timed(a + '/' + f)); tb.append(timed(b + '/' + f))
    ta.sort(); tb.sort()
    print(f, ta[len(ta) // 2], tb[len(tb) // 2], flush=True)
`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root');
  if (!existsSync(LXCFS)) throw new Error('lxcfs is not installed');
  const ts = await mountTsproc();
  const lx = await mountLxcfs();
  let cg: TestCgroup | undefined;
  try {
    cg = makeCgroup(`views-latency-${process.pid}`, { memory: 512 * 2 ** 20, cpus: '0', quota: 0.5 });
    const join = cg.procs.map((f) => `echo $$ > ${f}`).join(' && ');
    const places: [string, string[]][] = [
      ['host', ['python3']],
      ['container', ['sh', '-c', `${join} && exec unshare --pid --fork "$@"`, 'sh', 'python3']],
    ];
    console.log(`open+read+close, median of ${ROUNDS} batches of ${BATCH} reads, the two mounts interleaved, microseconds`);
    for (const [place, prefix] of places) {
      console.log(`\nreader on the ${place}:`);
      console.log(`${'file'.padEnd(32)}${'lxcfs'.padStart(9)}${'tsproc'.padStart(9)}${'ratio'.padStart(8)}`);
      const r = spawnSync(
        prefix[0]!,
        [...prefix.slice(1), '-c', READER, lx.dir, ts.dir, BENCH_FILES.join(','), String(ROUNDS), String(BATCH)],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`reader failed: ${r.stderr}`);
      for (const line of r.stdout.trim().split('\n')) {
        const [f, l, t] = line.split(' ');
        console.log(
          `${f!.padEnd(32)}${Number(l).toFixed(1).padStart(9)}${Number(t).toFixed(1).padStart(9)}${(Number(t) / Number(l)).toFixed(2).padStart(8)}`,
        );
      }
    }
  } finally {
    cg?.remove();
    await unmount(ts);
    await unmount(lx);
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
