// Read latency of tsproc against lxcfs measured interleaved: one reader alternates short batches on the
// two mounts, so load that comes and goes on a shared machine weighs on both alike; medians of batches.
// Run by hand as root: node dist/bench/views-latency.js [--rounds N] [--batch N] [--compare BIN]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  BENCH_FILES,
  LXCFS,
  benchCgroup,
  cleanUp,
  inContainer,
  mount,
  mountLxcfs,
  mountTsproc,
  numberArg,
  runMain,
  stringArg,
} from './mounts.js';

// For each file: ROUNDS times, a batch of reads under each root in turn; prints "file median median...".
const READER = `
import os, sys, time
roots, files, rounds, batch = sys.argv[1].split(','), sys.argv[2].split(','), int(sys.argv[3]), int(sys.argv[4])
def once(p):
    fd = os.open(p, os.O_RDONLY)
    while os.read(fd, 65536): pass
    os.close(fd)
def timed(p):
    t = time.perf_counter()
    for _ in range(batch): once(p)
    return (time.perf_counter() - t) / batch * 1e6
for f in files:
    for _ in range(10):
        for r in roots: once(r + '/' + f)
    ts = [[] for _ in roots]
    for _ in range(rounds):
        for i, r in enumerate(roots): ts[i].append(timed(r + '/' + f))
    print(f, *[sorted(t)[len(t) // 2] for t in ts], flush=True)
`;

/** How a latency bench reads: `rounds` batches of `batch` open+read+close of each file, under each root in turn. */
export interface LatencyOptions {
  rounds: number;
  batch: number;
}

/**
 * Microseconds per open+read to EOF+close of each file under each root ('' is the kernel's own file),
 * the roots interleaved batch by batch; `prefix` is what the reader (python3) runs under: [] on the host.
 * Returns, per file in order, the median batch of each root in order.
 */
export function latency(prefix: readonly string[], roots: string[], files: readonly string[], o: LatencyOptions): number[][] {
  const argv = [...prefix, 'python3', '-c', READER, roots.join(','), files.join(','), String(o.rounds), String(o.batch)];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reader failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' ').slice(1).map(Number));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root');
  if (!existsSync(LXCFS)) throw new Error('lxcfs is not installed');
  const o = { rounds: numberArg('--rounds', 40, 1), batch: numberArg('--batch', 25, 1) };
  // --compare BIN: another checkout's tsproc (the code before a change) in the same interleaved batches
  const compare = stringArg('--compare', '');
  try {
    const ts = await mountTsproc();
    const lx = await mountLxcfs();
    const before = compare ? await mount('compare', process.execPath, (d) => [compare, 'mount', d]) : undefined;
    const cg = benchCgroup(`views-latency-${process.pid}`, { memory: 512 * 2 ** 20, cpus: '0', quota: 0.5 });
    console.log(`open+read+close, median of ${o.rounds} batches of ${o.batch} reads, the mounts interleaved, microseconds`);
    const head = `${'file'.padEnd(32)}${'lxcfs'.padStart(9)}${'tsproc'.padStart(9)}${'ratio'.padStart(8)}`;
    for (const [place, prefix] of [
      ['host', []],
      ['container', inContainer(cg, [])],
    ] as const) {
      console.log(`\nreader on the ${place}:`);
      console.log(before ? `${head}${'compare'.padStart(9)}${'ratio'.padStart(8)}` : head);
      latency(prefix, [lx.dir, ts.dir, ...(before ? [before.dir] : [])], BENCH_FILES, o).forEach(([l, t, b], i) =>
        console.log(
          `${BENCH_FILES[i]!.padEnd(32)}${l!.toFixed(1).padStart(9)}${t!.toFixed(1).padStart(9)}${(t! / l!).toFixed(2).padStart(8)}` +
            (b === undefined ? '' : `${b.toFixed(1).padStart(9)}${(b / l!).toFixed(2).padStart(8)}`),
        ),
      );
    }
  } finally {
    await cleanUp();
  }
}

runMain(import.meta.url, main);
