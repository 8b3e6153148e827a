// The floor of the FUSE transport: open+read+close latency of every served file through a daemon that
// does no work at all (bench/null-fuse.c, C, raw /dev/fuse), beside lxcfs and tsproc, interleaved batch by
// batch from the same reader; and the same null daemon with its threads pinned to the reader's CPU. What
// a zero-work daemon takes against lxcfs bounds what any daemon can reach here; tsproc pinned to that
// CPU too shows what the placement of its threads is worth.
// Run by hand as root (needs cc): node dist/bench/floor.js [--rounds N] [--batch N] [--reps N] [--warm N] [--seconds S] [--host] [--threads N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BENCH_FILES,
  BIN,
  atCleanUp,
  benchCgroup,
  cleanUp,
  inContainer,
  loadAverage,
  mount,
  mountLxcfs,
  mountTsproc,
  numberArg,
  runMain,
} from './mounts.js';
import { throughput } from './read-latency.js';
import { latency } from './views-latency.js';

const SOURCE = fileURLToPath(new URL('../../bench/null-fuse.c', import.meta.url));

/** bench/null-fuse.c compiled (with cc) into a tsproc-test directory removed at clean-up; its path. */
export function buildNullFuse(): string {
  const work = mkdtempSync('/tmp/tsproc-test-floor-');
  atCleanUp(() => rmSync(work, { recursive: true, force: true }));
  const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-pthread', '-o', `${work}/null-fuse`, SOURCE], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`building bench/null-fuse.c failed: ${cc.error?.message ?? cc.stderr}`);
  return `${work}/null-fuse`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, makes a cgroup)');
  const o = { rounds: numberArg('--rounds', 20, 1), batch: numberArg('--batch', 20, 1) };
  const threads = numberArg('--threads', 0, 0, true);
  const [warm, reps, seconds] = [numberArg('--warm', 500, 1), numberArg('--reps', 2, 1), numberArg('--seconds', 2, 0.01)];
  try {
    const nullFuse = buildNullFuse();
    const lx = await mountLxcfs();
    const ts = await mountTsproc(threads ? ['--threads', String(threads)] : []);
    const nul = await mount('null', nullFuse, (d) => [d, '2']);
    // pinned to CPU 0, where the container's reader runs (its cpuset)
    const pinned = await mount('null-cpu0', 'taskset', (d) => ['-c', '0', nullFuse, d, '2']);
    const tsPinned = await mount('tsproc-cpu0', 'taskset', (d) => ['-c', '0', process.execPath, BIN, 'mount', d]);
    const cg = benchCgroup(`floor-${process.pid}`, { memory: 512 * 2 ** 20, cpus: '0', quota: 0.5 });
    const prefix = process.argv.includes('--host') ? [] : inContainer(cg, []);
    const roots = ['', lx.dir, ts.dir, nul.dir, pinned.dir, tsPinned.dir];
    // a new daemon is slower while V8 compiles its code: every file read before anything is timed
    latency(prefix, roots.slice(1), BENCH_FILES, { rounds: 1, batch: warm });
    const names = ['kernel', 'lxcfs', 'tsproc', 'null', 'null@cpu0', 'tsproc@cpu0'];
    console.log(`${prefix.length ? 'container' : 'host'} reader; us per open+read+close, median of ${o.rounds} batches of ${o.batch}`);
    console.log(`${'file'.padEnd(30)}${names.map((n) => n.padStart(10)).join('')}   / lxcfs: tsproc null null@cpu0 tsproc@cpu0`);
    for (let rep = 0; rep < reps; rep++) {
      console.log(`load average ${loadAverage()}`);
      latency(prefix, roots, BENCH_FILES, o).forEach((r, i) =>
        console.log(
          `${BENCH_FILES[i]!.padEnd(30)}${r.map((x) => x.toFixed(0).padStart(10)).join('')}   ${r
            .slice(2)
            .map((x) => (x / r[1]!).toFixed(2))
            .join(' ')}`,
        ),
      );
    }
    // 8 readers at once: what the container's readers can take through a daemon that does nothing
    const tp = roots.slice(1).map((r) => throughput(prefix, `${r}/proc/meminfo`, 8, seconds));
    console.log(
      `8 readers of proc/meminfo for ${seconds} s, reads/s: ${names
        .slice(1)
        .map((n, i) => `${n} ${tp[i]!.toFixed(0)}`)
        .join(', ')}`,
    );
    console.log(`load average ${loadAverage()}`);
  } finally {
    await cleanUp();
  }
}

runMain(import.meta.url, main);
