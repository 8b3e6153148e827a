// `npm run bench`: every figure of issue 13 in one run, tsproc beside lxcfs (and `tsproc run` beside
// `node -e 0` and runc), one table with the ratios and the targets, or the same as JSON.
// As root: npm run bench -- [--quick] [--json] [--only latency,throughput,first-read,memory,run] [...]
// (`--help` lists every flag.)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pidusage from 'pidusage';
import { firstReads } from './first-read.js';
import { buildNullFuse } from './floor.js';
import { family, load, type Sample } from './memory.js';
import {
  BENCH_FILES,
  LXCFS,
  UsageError,
  benchCgroup,
  checkedNumber,
  cleanUp,
  inContainer,
  isMain,
  median,
  mount,
  mountLxcfs,
  mountTsproc,
  type Mount,
} from './mounts.js';
export { UsageError };
import { throughput } from './read-latency.js';
import { runStartup } from './run.js';
import { latency } from './views-latency.js';

/** The bench's parts, in the order they run; `--only` names some of them. */
export const SECTIONS = ['latency', 'throughput', 'first-read', 'memory', 'run'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  sections: Section[];
  /**
   * reads of each file on each mount, from the container, before any figure is taken: a new daemon's
   * first thousands of requests are slower while V8 compiles its code (a serving daemon is warm)
   */
  warm: number;
  /** latency: batches per file and place, and reads per batch */
  rounds: number;
  batch: number;
  /** throughput: seconds per measurement, and measurements per mount (interleaved) */
  seconds: number;
  throughputRounds: number;
  /** first read: new containers per mount */
  firstRounds: number;
  /** memory and CPU: reads, parallel readers, containers they are spread over */
  reads: number;
  readers: number;
  containers: number;
  /** `tsproc run` start-up: rounds of the interleaved loop */
  runRounds: number;
  /** tsproc's worker threads (0: its default) */
  threads: number;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  sections: [...SECTIONS],
  warm: 500,
  rounds: 20,
  batch: 25,
  seconds: 3,
  throughputRounds: 3,
  firstRounds: 9,
  reads: 100_000,
  readers: 64,
  containers: 8,
  runRounds: 20,
  threads: 0,
};

/** `--quick`: every figure once, as fast as it can be had (for the test that the bench runs; the figures mean little). */
export const QUICK_OPTIONS: BenchOptions = {
  ...DEFAULT_OPTIONS,
  warm: 5,
  rounds: 2,
  batch: 3,
  seconds: 0.3,
  throughputRounds: 1,
  firstRounds: 1,
  reads: 640,
  readers: 8,
  containers: 2,
  runRounds: 1,
};

/** A target: the row's ratio (or its tsproc figure) at most or at least `limit`. */
export interface Target {
  on: 'ratio' | 'value';
  at: 'most' | 'least';
  limit: number;
  text: string;
}

export interface Row {
  /** stable key, e.g. `latency.container.proc/meminfo` */
  id: string;
  figure: string;
  unit: string;
  /** what tsproc is compared with, and its figure */
  base: string;
  baseValue: number;
  tsproc: number;
  /** tsproc / base */
  ratio: number;
  /** the kernel's own file (latency rows) */
  kernel?: number;
  /**
   * The floor: a FUSE daemon that does no work at all (bench/null-fuse.c, 2 threads), measured in the
   * same run. Its figure, and its ratio (null / lxcfs; for the first read against a warm one, its own
   * first read against its own later ones).
   */
  floor?: { value: number; ratio: number };
  target?: Target;
  met?: boolean;
  /**
   * Whether the floor's ratio meets the target too: false says that a daemon doing nothing at all
   * missed it in this run. Only where the floor is measured against the same base as tsproc (lxcfs).
   */
  floorMet?: boolean;
}

export interface BenchResult {
  date: string;
  machine: { kernel: string; cpus: number; cpu: string; node: string; lxcfs: string; runc: string };
  options: BenchOptions;
  load: { before: number[]; after: number[] };
  rows: Row[];
  /** the null daemon: 'measured', or why not */
  floor: string;
}

const MiB = 2 ** 20;
/** the 80 MB */
const MEMORY_LIMIT_MIB = 80e6 / MiB;

const meets = (t: Target, value: number): boolean => (t.at === 'most' ? value <= t.limit : value >= t.limit);

function row(r: Omit<Row, 'ratio' | 'met' | 'floorMet'>): Row {
  const ratio = r.tsproc / r.baseValue;
  const t = r.target;
  if (!t) return { ...r, ratio };
  const met = meets(t, t.on === 'value' ? r.tsproc : ratio);
  return { ...r, ratio, met, ...(r.floor && t.on === 'ratio' && r.base === 'lxcfs' ? { floorMet: meets(t, r.floor.ratio) } : {}) };
}

/** The floor's figure and its ratio against `base`, when the null daemon ran. */
const floorOf = (value: number | undefined, base: number): Row['floor'] =>
  value === undefined ? undefined : { value, ratio: value / base };

const LATENCY_TARGET: Target = { on: 'ratio', at: 'most', limit: 0.5, text: '<= 0.5 x lxcfs' };
const THROUGHPUT_TARGET: Target = { on: 'ratio', at: 'least', limit: 2, text: '>= 2 x lxcfs' };
const MEMORY_TARGET: Target = { on: 'value', at: 'most', limit: MEMORY_LIMIT_MIB, text: '<= 80 MB' };

/** The null daemon built (with $CC or cc) and mounted; undefined, and why said to `missing`, if it cannot be. */
async function mountFloor(missing: (why: string) => void): Promise<Mount | undefined> {
  try {
    return await mount('null', buildNullFuse(), (d) => [d, '2']);
  } catch (err) {
    missing(`not measured: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** The mounts a bench compares: lxcfs, tsproc, and the null daemon (the floor) where it could be built. */
interface Mounts {
  lx: Mount;
  ts: Mount;
  nul?: Mount;
}

/** Latency of every file, on the host and in a container, the kernel, lxcfs, tsproc and the floor interleaved. */
function latencyRows(o: BenchOptions, { lx, ts, nul }: Mounts, container: string[]): Row[] {
  const rows: Row[] = [];
  for (const [place, prefix] of [
    ['host', []],
    ['container', container],
  ] as const) {
    latency(prefix, ['', lx.dir, ts.dir, ...(nul ? [nul.dir] : [])], BENCH_FILES, o).forEach(([kernel, l, t, n], i) => {
      const floor = floorOf(n, l!);
      rows.push(
        row({
          id: `latency.${place}.${BENCH_FILES[i]}`,
          figure: `${place} reader, ${BENCH_FILES[i]}`,
          unit: 'us',
          base: 'lxcfs',
          baseValue: l!,
          tsproc: t!,
          kernel: kernel!,
          ...(floor ? { floor } : {}),
          // the target is a container reader's; a host reader's row is shown beside it
          ...(place === 'container' ? { target: LATENCY_TARGET } : {}),
        }),
      );
    });
  }
  return rows;
}

/** Reads/s of meminfo by 8 and 32 readers at once, on the host and in a container; mounts interleaved, medians. */
function throughputRows(o: BenchOptions, { lx, ts, nul }: Mounts, container: string[]): Row[] {
  const rows: Row[] = [];
  const mounts = [lx, ts, ...(nul ? [nul] : [])];
  for (const [place, prefix] of [
    ['container', container],
    ['host', []],
  ] as const) {
    for (const procs of [8, 32]) {
      const got = new Map<Mount, number[]>(mounts.map((m) => [m, []]));
      // each round starts with another mount
      for (let r = 0; r < o.throughputRounds; r++)
        for (const m of [...mounts.slice(r % mounts.length), ...mounts.slice(0, r % mounts.length)])
          got.get(m)!.push(throughput(prefix, `${m.dir}/proc/meminfo`, procs, o.seconds));
      const base = median(got.get(lx)!);
      const floor = floorOf(nul && median(got.get(nul)!), base);
      rows.push(
        row({
          id: `throughput.${place}.${procs}`,
          figure: `${place}, ${procs} readers of proc/meminfo`,
          unit: 'reads/s',
          base: 'lxcfs',
          baseValue: base,
          tsproc: median(got.get(ts)!),
          ...(floor ? { floor } : {}),
          ...(procs === 8 && place === 'container' ? { target: THROUGHPUT_TARGET } : {}),
        }),
      );
    }
  }
  return rows;
}

function firstReadRows(o: BenchOptions, { lx, ts, nul }: Mounts): Row[] {
  const got = firstReads([ts, lx, ...(nul ? [nul] : [])], o.firstRounds, 'proc/meminfo');
  const t = got.get(ts.name)!;
  const l = got.get(lx.name)!;
  const n = nul && got.get(nul.name);
  return [
    row({
      id: 'first-read',
      figure: 'first read of a new container, meminfo',
      unit: 'us',
      base: 'lxcfs',
      baseValue: l.first,
      tsproc: t.first,
      ...(n ? { floor: floorOf(n.first, l.first)! } : {}),
    }),
    row({
      id: 'first-read.warm',
      figure: 'first read against a warm read (tsproc)',
      unit: 'us',
      base: 'warm read',
      baseValue: t.later,
      tsproc: t.first,
      // the null daemon's own first read against its own later ones
      ...(n ? { floor: floorOf(n.first, n.later)! } : {}),
      target: { on: 'ratio', at: 'most', limit: 2, text: '<= 2 x warm read' },
    }),
  ];
}

/** CPU time (user + system) of the processes so far, ms. */
async function cpuMs(pids: number[]): Promise<number> {
  let ms = 0;
  for (const pid of pids) ms += (await pidusage(pid)).ctime;
  return ms;
}

/** Memory of each daemon before, at the peak of and after `reads` reads by `readers` readers; CPU per 10k reads. */
async function memoryRows(o: BenchOptions, { lx, ts }: Mounts): Promise<Row[]> {
  const cgroups = Array.from({ length: o.containers }, (_, i) =>
    benchCgroup(`bench-memory-${i}-${process.pid}`, { memory: (256 + 32 * i) * MiB, cpus: '0', quota: 0.5 }),
  );
  const got = new Map<Mount, { peak: Sample; end: Sample; cpu: number; reads: number }>();
  for (const m of [ts, lx]) {
    const pids = family(m.proc.pid!);
    const cpu0 = await cpuMs(pids);
    const r = await load(m, cgroups, o.reads, o.readers);
    const reads = Math.ceil(o.reads / o.readers) * o.readers;
    got.set(m, { peak: r.peak, end: r.end, cpu: ((await cpuMs(pids)) - cpu0) / (reads / 10_000), reads });
  }
  pidusage.clear();
  const t = got.get(ts)!;
  const l = got.get(lx)!;
  const rss = (s: Sample) => s.rss.reduce((a, b) => a + b, 0) / 1024;
  const what = `${t.reads} reads, ${o.readers} readers, ${o.containers} containers`;
  return [
    row({
      id: 'memory.rss.peak',
      figure: `daemon RSS, peak over ${what}`,
      unit: 'MiB',
      base: 'lxcfs',
      baseValue: rss(l.peak),
      tsproc: rss(t.peak),
      target: MEMORY_TARGET,
    }),
    row({
      id: 'memory.rss.after',
      figure: 'daemon RSS after the load',
      unit: 'MiB',
      base: 'lxcfs',
      baseValue: rss(l.end),
      tsproc: rss(t.end),
    }),
    row({
      id: 'memory.pss.peak',
      figure: 'daemon PSS (shared pages counted once), peak',
      unit: 'MiB',
      base: 'lxcfs',
      baseValue: l.peak.pss / 1024,
      tsproc: t.peak.pss / 1024,
      target: MEMORY_TARGET,
    }),
    row({ id: 'cpu.per-10k', figure: 'daemon CPU time per 10k reads', unit: 'ms', base: 'lxcfs', baseValue: l.cpu, tsproc: t.cpu }),
  ];
}

function runRows(o: BenchOptions): Row[] {
  const { rows } = runStartup(o.runRounds);
  const m = (name: string) => median(rows.find((r) => r.name.startsWith(name))!.times);
  const ts = m('tsproc run');
  return [
    row({
      id: 'run.node',
      figure: '`tsproc run --rm --rootfs R true`',
      unit: 'ms',
      base: 'node -e 0',
      baseValue: m('node -e 0'),
      tsproc: ts,
      target: { on: 'ratio', at: 'most', limit: 1.6, text: '<= 1.6 x node -e 0' },
    }),
    row({
      id: 'run.runc',
      figure: '`tsproc run --rm --rootfs R true`',
      unit: 'ms',
      base: 'runc run',
      baseValue: m('runc run'),
      tsproc: ts,
    }),
  ];
}

function machine(): BenchResult['machine'] {
  const out = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0]!.replace(/"/g, '');
  };
  return {
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? '',
    node: process.version,
    lxcfs: out(LXCFS, ['--version']),
    runc: out('runc', ['--version']),
  };
}

/** Mounts lxcfs and tsproc side by side, makes the cgroups, measures the sections asked for; undoes it all. */
export async function bench(o: BenchOptions): Promise<BenchResult> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, makes cgroups and pid namespaces)');
  for (const [what, path] of [
    ['lxcfs', LXCFS],
    ['python3', '/usr/bin/python3'],
  ])
    if (!existsSync(path!)) throw new Error(`${what} is not installed (${path})`);
  const before = loadavg();
  const date = new Date().toISOString();
  const rows: Row[] = [];
  const has = (s: Section) => o.sections.includes(s);
  let floorNote = 'not measured: no part that reads the files ran';
  try {
    if (has('latency') || has('throughput') || has('first-read') || has('memory')) {
      const ts = await mountTsproc(o.threads ? ['--threads', String(o.threads)] : []);
      const lx = await mountLxcfs();
      // the floor (bench/floor.ts), for the parts that read the FUSE files
      const nul = has('latency') || has('throughput') || has('first-read') ? await mountFloor((why) => (floorNote = why)) : undefined;
      const m: Mounts = { lx, ts, ...(nul ? { nul } : {}) };
      // the container: 512 MiB, half a CPU, cpuset 0, its own pid namespace
      const cg = benchCgroup(`bench-${process.pid}`, { memory: 512 * MiB, cpus: '0', quota: 0.5 });
      const container = inContainer(cg, []);
      if (o.warm > 0) latency(container, [lx.dir, ts.dir, ...(nul ? [nul.dir] : [])], BENCH_FILES, { rounds: 1, batch: o.warm });
      if (has('latency')) rows.push(...latencyRows(o, m, container));
      if (has('throughput')) rows.push(...throughputRows(o, m, container));
      if (has('first-read')) rows.push(...firstReadRows(o, m));
      if (has('memory')) rows.push(...(await memoryRows(o, m)));
    }
  } finally {
    await cleanUp();
  }
  if (has('run')) rows.push(...runRows(o));
  if (rows.some((r) => r.floor)) floorNote = 'measured';
  return { date, machine: machine(), options: o, load: { before, after: loadavg() }, rows, floor: floorNote };
}

const fmt = (x: number) => (!Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The result as a plain-text table: one line per row, then the load average. */
export function formatTable(r: BenchResult): string {
  const head = ['figure', 'unit', 'against', 'kernel', 'base', 'tsproc', 'tsproc/base', 'null', 'null ratio', 'target', 'met'];
  const lines = r.rows.map((x) => [
    x.figure,
    x.unit,
    x.base,
    x.kernel === undefined ? '' : fmt(x.kernel),
    fmt(x.baseValue),
    fmt(x.tsproc),
    x.ratio.toFixed(2),
    x.floor ? fmt(x.floor.value) : '',
    x.floor ? x.floor.ratio.toFixed(2) : '',
    x.target?.text ?? '',
    x.met === undefined ? '' : `${x.met ? 'yes' : 'NO'}${x.floorMet === false ? ' (null: no)' : ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const text = (l: string[]) =>
    l
      .map((c, i) => (i < 3 || i > 8 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const m = r.machine;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    `tsproc bench, ${r.date}; ${m.cpus} x ${m.cpu}, kernel ${m.kernel}, node ${m.node}, lxcfs ${m.lxcfs}, ${m.runc}`,
    text(head),
    ...lines.map(text),
    r.floor === 'measured'
      ? 'null: a FUSE daemon that does no work (bench/null-fuse.c), same run; "(null: no)": it missed the target too'
      : `null: ${r.floor}`,
    `load average: ${load(r.load.before)} before, ${load(r.load.after)} after`,
  ].join('\n');
}

/** What `--help` prints: the flags and their defaults. */
export const USAGE = `usage (as root): npm run bench -- [flags]
  --quick                  every figure once, in under a minute (the figures mean little)
  --json                   the result as JSON instead of the table
  --only A,B               sections: ${SECTIONS.join(', ')} (default: all)
  --warm N                 reads of each file on both mounts before timing (${DEFAULT_OPTIONS.warm})
  --rounds N, --batch N    latency: batches per file and place, reads per batch (${DEFAULT_OPTIONS.rounds}, ${DEFAULT_OPTIONS.batch})
  --seconds S              throughput: seconds per measurement (${DEFAULT_OPTIONS.seconds})
  --throughput-rounds N    throughput: measurements per mount (${DEFAULT_OPTIONS.throughputRounds})
  --first-rounds N         first read: new containers per mount (${DEFAULT_OPTIONS.firstRounds})
  --reads N, --readers P, --containers C
                           memory and CPU: reads, parallel readers, containers (${DEFAULT_OPTIONS.reads}, ${DEFAULT_OPTIONS.readers}, ${DEFAULT_OPTIONS.containers})
  --run-rounds N           tsproc run start-up: rounds (${DEFAULT_OPTIONS.runRounds})
  --threads N              tsproc's worker threads (0: its default)`;

const NUMBERS: [flag: string, key: keyof Omit<BenchOptions, 'sections'>, min: number, integer?: boolean][] = [
  ['warm', 'warm', 0, true],
  ['rounds', 'rounds', 1],
  ['batch', 'batch', 1],
  ['seconds', 'seconds', 0.01],
  ['throughput-rounds', 'throughputRounds', 1],
  ['first-rounds', 'firstRounds', 1],
  ['reads', 'reads', 1],
  ['readers', 'readers', 1],
  ['containers', 'containers', 1],
  ['run-rounds', 'runRounds', 1],
  ['threads', 'threads', 0, true],
];

/** The options from the command line (`--quick` first, then each flag over it); undefined for --help. */
export function optionsFromArgv(argv = process.argv.slice(2)): BenchOptions | undefined {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        help: { type: 'boolean' },
        quick: { type: 'boolean' },
        json: { type: 'boolean' },
        only: { type: 'string' },
        ...Object.fromEntries(NUMBERS.map(([flag]) => [flag, { type: 'string' as const }])),
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (--help lists the flags)`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return undefined;
  const base = v.quick ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  const sections = typeof v.only === 'string' ? v.only.split(',') : base.sections;
  for (const s of sections)
    if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`--only: no section ${s} (${SECTIONS.join(', ')})`);
  const o: BenchOptions = { ...base, sections: sections as Section[] };
  for (const [flag, key, min, integer] of NUMBERS) {
    const given = v[flag];
    if (typeof given === 'string') o[key] = checkedNumber(`--${flag}`, given, min, integer);
  }
  return o;
}

if (isMain(import.meta.url)) {
  let o: BenchOptions | undefined;
  try {
    o = optionsFromArgv();
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(2);
  }
  if (!o) console.log(USAGE);
  else
    bench(o).then(
      (r) => console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : formatTable(r)),
      (err: Error) => {
        console.error(`bench: ${err.stack}`);
        process.exitCode = 1;
      },
    );
}
