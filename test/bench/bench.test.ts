// `npm run bench` runs (in its quickest mode) and gives every figure of issue 13, as a table and as JSON,
// and leaves no mount or cgroup behind, also when stopped with Ctrl-C. Its figures are not checked: a
// bench is not a timed test.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostLayout } from '../../src/cgroup-layout.js';
import { formatTable, type BenchResult } from '../../bench/index.js';
import { SERVED_FILES } from '../../src/served-files.js';

const BENCH = fileURLToPath(new URL('../../bench/index.js', import.meta.url));
/** A C compiler for the bench's floor (bench/null-fuse.c); without one the bench measures without it. */
const CC = spawnSync(process.env.CC || 'cc', ['--version'], { stdio: 'ignore' }).status === 0;

const skip =
  process.getuid?.() !== 0
    ? 'needs root (mounts FUSE, makes cgroups)'
    : !existsSync('/usr/bin/lxcfs')
      ? 'lxcfs is not installed'
      : spawnSync('runc', ['--version']).status !== 0
        ? 'runc is not installed'
        : undefined;
if (skip) t.plan(0, skip);

// The issue's figures, written out: every served file for a host and a container reader, 8 and 32
// readers on each, the first read, memory and CPU, and `tsproc run` against node and runc.
const FILES = ['meminfo', 'cpuinfo', 'stat', 'uptime', 'loadavg', 'swaps', 'diskstats', 'cpu-online'] as const;
const EXPECTED = [
  ...['host', 'container'].flatMap((place) => FILES.map((f) => `latency.${place}.${SERVED_FILES[f]}`)),
  'throughput.container.8',
  'throughput.container.32',
  'throughput.host.8',
  'throughput.host.32',
  'first-read',
  'first-read.warm',
  'memory.rss.peak',
  'memory.rss.after',
  'memory.pss.peak',
  'cpu.per-10k',
  'run.node',
  'run.runc',
];
/** Rows with a target of the issue, and what they are compared with. */
const TARGETS: Record<string, string> = {
  ...Object.fromEntries(FILES.map((f) => [`latency.container.${SERVED_FILES[f]}`, 'lxcfs'])),
  'throughput.container.8': 'lxcfs',
  'first-read.warm': 'warm read',
  'memory.rss.peak': 'lxcfs',
  'memory.pss.peak': 'lxcfs',
  'run.node': 'node -e 0',
};

/**
 * What the bench of process `pid` has made and not removed: its mounts and their directories
 * (/tmp/tsproc-test-bench-NAME-PID-*, bench/mounts.ts) and its cgroups (tsproc-test-...-PID).
 */
function leftovers(pid: number): string[] {
  const mine = (s: string) => s.includes(`/tmp/tsproc-test-bench-`) && s.includes(`-${pid}-`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(mine);
  const dirs = readdirSync('/tmp')
    .map((f) => `/tmp/${f}`)
    .filter(mine);
  const layout = hostLayout();
  const roots = layout.kind === 'v2' ? [layout.unified!] : Object.values(layout.v1).filter((d): d is string => !!d);
  const cgroups = roots.flatMap((r) =>
    (existsSync(r) ? readdirSync(r) : []).filter((d) => d.startsWith('tsproc-test') && d.endsWith(`-${pid}`)).map((d) => `${r}/${d}`),
  );
  return [...mounts, ...dirs, ...cgroups];
}

t.test('--quick --json gives every figure, each measured, and a table of them', async (t) => {
  const child = spawn(process.execPath, [BENCH, '--quick', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise((r) => child.on('close', r));
  t.equal(code, 0, err);
  const result = JSON.parse(out) as BenchResult;
  t.same(
    result.rows.map((r) => r.id),
    EXPECTED,
    'one row per figure, in order',
  );
  for (const r of result.rows) {
    t.ok(r.baseValue > 0 && r.tsproc > 0 && Number.isFinite(r.ratio), `${r.id}: both measured (${r.baseValue}, ${r.tsproc})`);
    t.equal(r.target ? r.base : undefined, TARGETS[r.id], `${r.id}: ${TARGETS[r.id] ? `a target against ${TARGETS[r.id]}` : 'no target'}`);
    t.equal(typeof r.met, r.target ? 'boolean' : 'undefined', `${r.id}: met or not, where there is a target`);
    // the floor (a daemon doing no work, built with cc) beside every figure read through FUSE: not memory, CPU or run
    const floored = CC && /^(latency|throughput|first-read)/.test(r.id);
    t.equal(r.floor !== undefined, floored, `${r.id}: ${floored ? 'the null daemon measured' : 'no floor'}`);
    if (r.floor) t.ok(r.floor.value > 0 && Number.isFinite(r.floor.ratio), `${r.id}: the floor (${r.floor.value}, ${r.floor.ratio})`);
    // whether the floor met the target: where it is measured against lxcfs, as tsproc is
    const compared = r.floor !== undefined && r.target !== undefined && r.base === 'lxcfs';
    t.equal(
      typeof r.floorMet,
      compared ? 'boolean' : 'undefined',
      `${r.id}: ${compared ? 'the floor against the target' : 'no floor verdict'}`,
    );
  }
  t.match(result.floor, CC ? /^measured$/ : /^not measured: /, 'the floor measured where cc builds it');
  t.equal(result.load.before.length, 3, 'the load average before');
  t.equal(result.load.after.length, 3, 'and after');
  t.match(result.machine, { kernel: /\S/, node: process.version, lxcfs: /\d/ }, 'the machine');
  const table = formatTable(result).split('\n');
  t.equal(table.length, EXPECTED.length + 4, 'the table: a title, a header, a line per row, what null is, the load average');
  t.match(table.at(-2), CC ? /^null: a FUSE daemon that does no work/ : /^null: not measured: /);
  result.rows.forEach((r, i) => t.ok(table[i + 2]!.startsWith(r.figure), `the table's line for ${r.id}`));
  t.match(table.at(-1), /^load average: [\d.]+ [\d.]+ [\d.]+ before, [\d.]+ [\d.]+ [\d.]+ after$/);
  t.same(leftovers(child.pid!), [], 'no mount or cgroup left behind');
});

t.test('Ctrl-C (SIGINT to its process group) while it runs: it stops, and undoes its mounts and cgroups', async (t) => {
  // a process group of its own, as a shell gives a command, so that the test can press Ctrl-C
  const child = spawn(process.execPath, [BENCH, '--quick', '--only', 'first-read', '--first-rounds', '50'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => child.on('close', r));
  // once both daemons are mounted and a container's cgroup is made
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
    if (leftovers(child.pid!).some((l) => l.includes('views-first'))) break;
  const made = leftovers(child.pid!);
  t.equal(made.filter((l) => / - fuse/.test(l)).length, CC ? 3 : 2, `mounts made: tsproc, lxcfs${CC ? ' and the null daemon' : ''}`);
  t.ok(
    made.some((l) => l.includes('views-first')),
    "and a container's cgroup",
  );
  process.kill(-child.pid!, 'SIGINT');
  t.equal(await closed, 130, err);
  t.same(leftovers(child.pid!), [], 'no mount or cgroup left behind');
});
