// Resident memory of the daemon's processes under load: P parallel readers spread over C containers read
// every file in turn until R reads are done, on tsproc and then on lxcfs (same run); RSS and PSS sampled.
// Run by hand as root: node dist/bench/memory.js [--reads R] [--readers P] [--containers C] [--threads N] [--detail] [--no-lxcfs]
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeCgroup, type TestCgroup } from '../test/helpers/container.js';
import { BENCH_FILES, LXCFS, runMain, mountLxcfs, mountTsproc, unmount, type Mount, numberArg } from './mounts.js';

/** The command line: reads, parallel readers, containers, tsproc's threads (0: its default). */
function flags() {
  return {
    reads: numberArg('--reads', 1_000_000, 1),
    readers: numberArg('--readers', 64, 1),
    containers: numberArg('--containers', 8, 1),
    threads: numberArg('--threads', 0, 0, true),
    /** --detail: the largest anonymous mappings of each of tsproc's processes after the load */
    detail: process.argv.includes('--detail'),
    /** --no-lxcfs: tsproc alone (to compare builds; the ratio wants lxcfs in the same run) */
    lxcfs: !process.argv.includes('--no-lxcfs'),
  };
}

// n reads, going through the files in turn; prints nothing.
const LOADER = `
import os, sys
root, files, n = sys.argv[1], sys.argv[2].split(','), int(sys.argv[3])
paths = [root + '/' + f for f in files]
for i in range(n):
    fd = os.open(paths[i % len(paths)], os.O_RDONLY)
    while os.read(fd, 65536): pass
    os.close(fd)
`;

/** kB of a field of /proc/PID/status or smaps_rollup; 0 when gone. */
function kb(path: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pids of a process and its children (tsproc: the supervisor and its serving process). */
export function family(pid: number): number[] {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

export interface Sample {
  rss: number[];
  /** anonymous resident memory (RssAnon): what is the process's own; RssFile is mostly Node's binary, shared */
  anon: number[];
  pss: number;
  /** kB resident of the processes together, a page they share counted once: what the daemon takes alone */
  alone: number;
}

/**
 * kB resident of a set of processes, each page counted once among them however many other processes
 * map it: anonymous memory summed, a file mapping's resident pages taken once (the largest count among
 * the processes that map that range of that file). PSS instead divides a shared page among every
 * process on the machine that maps it: Node's binary, some 34 MiB resident in each Node process, weighs
 * on the daemon's PSS by how many other Node processes run at the time.
 */
function alone(pids: number[]): number {
  let anon = 0;
  const files = new Map<string, number>();
  for (const p of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${p}/smaps`, 'utf8');
    } catch {
      continue;
    }
    // per mapping: its file and offset (none for anonymous ones), Rss, and Anonymous (a private file
    // mapping's copied pages, the process's own)
    const maps: { key: string | undefined; rss: number; anon: number }[] = [];
    for (const line of text.split('\n')) {
      const m = /^[0-9a-f]+-[0-9a-f]+ \S+ ([0-9a-f]+) \S+ (\d+)\s*(.*)$/.exec(line);
      if (m) maps.push({ key: m[2] !== '0' ? `${m[3]}@${m[1]}` : undefined, rss: 0, anon: 0 });
      else if (line.startsWith('Rss:')) maps[maps.length - 1]!.rss = Number(line.split(/\s+/)[1]);
      else if (line.startsWith('Anonymous:')) maps[maps.length - 1]!.anon = Number(line.split(/\s+/)[1]);
    }
    for (const m of maps) {
      anon += m.anon;
      if (m.key) files.set(m.key, Math.max(files.get(m.key) ?? 0, m.rss - m.anon));
    }
  }
  return anon + [...files.values()].reduce((a, b) => a + b, 0);
}

/** The largest anonymous mappings of a process: "size/resident kB" each. */
function mappings(pid: number, n = 8): string {
  const rows: { size: number; anon: number; name: string }[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) rows.push({ size: (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024, anon: 0, name: m[3] || 'anon' });
    else if (line.startsWith('Anonymous:')) rows[rows.length - 1]!.anon = Number(line.split(/\s+/)[1]);
  }
  // V8 heap pages are 256 KiB mappings: summed apart
  const v8 = rows.filter((r) => r.name === 'anon' && r.size === 256);
  const rest = rows.filter((r) => !(r.name === 'anon' && r.size === 256));
  return `${v8.length} V8 pages of 256 KiB, ${v8.reduce((a, r) => a + r.anon, 0)} kB resident; others: ${rest
    .sort((a, b) => b.anon - a.anon)
    .slice(0, n)
    .map((r) => `${r.name} ${r.size}/${r.anon}`)
    .join(', ')}`;
}

export function sample(pid: number): Sample {
  const pids = family(pid);
  return {
    rss: pids.map((p) => kb(`/proc/${p}/status`, 'VmRSS')),
    anon: pids.map((p) => kb(`/proc/${p}/status`, 'RssAnon')),
    pss: pids.reduce((n, p) => n + kb(`/proc/${p}/smaps_rollup`, 'Pss'), 0),
    alone: alone(pids),
  };
}

/** `reads` reads by `readers` parallel readers spread over the cgroups, each its own container; the daemon's memory sampled. */
export async function load(
  m: Mount,
  cgroups: TestCgroup[],
  reads: number,
  readers: number,
): Promise<{ seconds: number; peak: Sample; end: Sample; before: Sample }> {
  const before = sample(m.proc.pid!);
  let peak = before;
  const timer = setInterval(() => {
    const s = sample(m.proc.pid!);
    if (s.alone > peak.alone) peak = s;
  }, 250);
  const t0 = Date.now();
  const each = Math.ceil(reads / readers);
  await Promise.all(
    Array.from({ length: readers }, (_, i) => {
      const cg = cgroups[i % cgroups.length]!;
      const join = cg.procs.map((f) => `echo $$ > ${f}`).join(' && ');
      return new Promise<void>((resolve, reject) => {
        const p = spawn(
          'sh',
          [
            '-c',
            `${join} && exec unshare --pid --fork python3 -c "$1" "$2" "$3" "$4"`,
            'sh',
            LOADER,
            m.dir,
            BENCH_FILES.join(','),
            String(each),
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a reader exited ${code}`))));
      });
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(timer);
  const end = sample(m.proc.pid!);
  if (end.alone > peak.alone) peak = end;
  return { seconds, peak, end, before };
}

async function main(): Promise<void> {
  const f = flags();
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, makes cgroups and pid namespaces)');
  const cgroups: TestCgroup[] = [];
  const mounts: Mount[] = [];
  let logFd: number | undefined;
  try {
    for (let i = 0; i < f.containers; i++)
      cgroups.push(makeCgroup(`views-memory-${i}-${process.pid}`, { memory: (256 + 32 * i) * 2 ** 20, cpus: '0', quota: 0.5 }));
    // tsproc's messages: a worker that reached its heap limit says so when it is replaced
    const log = `/tmp/tsproc-test-bench-memory-${process.pid}.log`;
    logFd = openSync(log, 'w');
    const ts = await mountTsproc(f.threads ? ['--threads', String(f.threads)] : [], logFd);
    mounts.push(ts);
    const lx = f.lxcfs && existsSync(LXCFS) ? await mountLxcfs() : undefined;
    if (lx) mounts.push(lx);
    const mib = (k: number) => (k / 1024).toFixed(1);
    console.log(
      `${f.reads} reads (every file in turn) by ${f.readers} parallel readers in ${f.containers} containers; load average at start ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    for (const [name, m] of [
      ['tsproc', ts],
      ['lxcfs', lx],
    ] as const) {
      if (!m) continue;
      const r = await load(m, cgroups, f.reads, f.readers);
      const parts = (s: Sample) =>
        `RSS ${mib(s.rss.reduce((a, b) => a + b, 0))} MiB (${s.rss.map(mib).join(' + ')}), anon ${s.anon.map(mib).join(' + ')}, PSS ${mib(s.pss)} MiB, alone ${mib(s.alone)} MiB`;
      if (f.detail && name === 'tsproc')
        for (const p of family(m.proc.pid!)) console.log(`  pid ${p}, largest anonymous mappings (size/resident kB): ${mappings(p)}`);
      console.log(
        `${name}: ${(f.reads / r.seconds).toFixed(0)} reads/s; \n  before: ${parts(r.before)}\n  peak:   ${parts(r.peak)}\n  after:  ${parts(r.end)}`,
      );
    }
    const stopped = readFileSync(`/tmp/tsproc-test-bench-memory-${process.pid}.log`, 'utf8').match(/worker \d+ stopped.*/g) ?? [];
    console.log(`tsproc workers ended and replaced: ${stopped.length}${stopped.length ? ` (${stopped[0]})` : ''}`);
    console.log(
      `load average at the end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    for (const m of mounts) await unmount(m);
    for (const cg of cgroups) cg.remove();
    if (logFd !== undefined) closeSync(logFd);
    rmSync(`/tmp/tsproc-test-bench-memory-${process.pid}.log`, { force: true });
  }
}

runMain(import.meta.url, main);
