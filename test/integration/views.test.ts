// The views for real: a container (a tsproc-test cgroup with a memory limit, a cpuset and a CPU quota,
// its own pid namespace) reads every file through a real mount; a host process sees the host; lxcfs agrees
// where it computes the same figure. Runs on v1, hybrid and pure v2 (the layout is read at run time).
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostLayout } from '../../src/cgroup-layout.js';
import { startContainer, makeCgroup, removeStaleCgroups, uniqueName, type Container, type TestCgroup } from '../helpers/container.js';
import { serverPid, startDaemon, waitFor } from '../helpers/daemon.js';
import { fields } from '../helpers/fixtures.js';
import { LXCFS, startLxcfs } from '../helpers/lxcfs.js';

const MiB = 2 ** 20;
/** Every test here mounts FUSE and makes cgroups and pid namespaces. */
const ROOT = process.getuid?.() === 0 ? false : 'needs root: it mounts FUSE, makes cgroups and pid namespaces';
if (!ROOT) removeStaleCgroups();

const processors = (text: string) => [...text.matchAll(/^processor\s*: (\d+)$/gm)].map((m) => Number(m[1]));
const cpuLines = (text: string) => text.split('\n').filter((l) => /^cpu[0-9]/.test(l));
const uptimeOf = (text: string) => text.trim().split(' ').map(Number) as [number, number];
const hostUptime = () => uptimeOf(readFileSync('/proc/uptime', 'utf8'))[0];
/** USER_HZ: the unit of /proc/PID/stat's times */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
/** When a process started, in seconds since boot (field 22 of its stat, after the command in parentheses). */
const initStart = (pid: number) =>
  Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ')[19],
  ) / CLK_TCK;
/** user+system and the total of a /proc/stat "cpu" line */
function busyTotal(text: string): [number, number] {
  const f = text.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - f[4]!, total];
}

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

interface Setup {
  dir: string;
  lxcfs: string | undefined;
  cg: TestCgroup;
  c: Container;
  stderr: () => string;
  daemonPid: number;
}

/*
 * The container most tests here share:
 *   tsproc-test-views-main-PID      memory 1 GiB
 *   └── ctr                         memory 256 MiB, cpuset 0, quota 50000/100000 (half a CPU)
 *       └── (pid namespace) init: the probe (test/helpers/probe.ts), readers: it, its children, nsenter
 * One daemon and one lxcfs serve the whole file (a daemon takes seconds to start under emulation).
 */
let shared: Promise<Setup> | undefined;
function setup(): Promise<Setup> {
  shared ??= (async () => {
    const d = await startDaemon(t);
    const lxcfs = await startLxcfs(t);
    const cg = makeCgroup(uniqueName('main'), { memory: 256 * MiB, parentMemory: 1024 * MiB, cpus: '0', quota: 0.5 });
    let c: Container | undefined;
    t.teardown(async () => {
      await c?.stop();
      cg.remove();
    });
    c = await startContainer(cg);
    // lxcfs samples a container's load from its first loadavg read on: that is now, for the comparison
    if (lxcfs) await c.read(`${lxcfs}/proc/loadavg`);
    return { dir: d.dir, lxcfs, cg, c, stderr: d.stderr, daemonPid: serverPid(d) };
  })();
  return shared;
}

t.test('a container: its limits and usage in every file', { skip: ROOT }, async (t) => {
  const { dir, c, stderr } = await setup();
  const read = (f: string) => c.read(`${dir}/${f}`);

  const m = fields(await read('proc/meminfo'));
  t.equal(m.MemTotal, 262144, 'MemTotal: the 256 MiB limit');
  t.ok(m.MemFree! > 0 && m.MemFree! < 262144, `MemFree ${m.MemFree} below the limit (the probe uses some)`);
  t.ok(m.MemAvailable! >= m.MemFree! && m.MemAvailable! <= 262144, 'MemAvailable between MemFree and MemTotal');
  t.ok(m.AnonPages! > 1024, `AnonPages ${m.AnonPages} kB: the probe's heap`);
  t.equal(m.Buffers, 0);

  const cpuinfo = await read('proc/cpuinfo');
  t.same(processors(cpuinfo), [0], 'cpuinfo: one CPU (cpuset 0, half a CPU of quota)');
  t.equal(await read('sys/devices/system/cpu/online'), '0\n');

  const stat = await read('proc/stat');
  t.same(
    cpuLines(stat).map((l) => l.split(' ')[0]),
    ['cpu0'],
    'stat: one cpuN line',
  );
  t.match(stat, /^btime \d+$/m);
  t.equal(stat.match(/^btime \d+$/m)![0], readFileSync('/proc/stat', 'utf8').match(/^btime \d+$/m)![0], "btime: the host's (ps needs it)");
  t.match(stat, /^procs_running [1-9]\d*$/m);

  // since the init started (field 22 of its stat, in clock ticks since boot), by the host's uptime read around the read
  const started = initStart(c.pid);
  const hostBefore = hostUptime();
  const [up, idle] = uptimeOf(await read('proc/uptime'));
  const hostAfter = hostUptime();
  t.ok(
    up >= hostBefore - started - 0.01 && up <= hostAfter - started + 0.01,
    `uptime ${up} s: the host's ${hostBefore} to ${hostAfter} s less the init's start at ${started} s`,
  );
  t.ok(idle <= up + 0.01, `idle ${idle} s within the uptime of one CPU`);

  const load = (await read('proc/loadavg')).trim().split(' ');
  t.equal(load.length, 5);
  t.match(load.slice(0, 3).join(' '), /^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
  const [running, total] = load[3]!.split('/').map(Number);
  t.ok(running! >= 1 && total! >= running!, `running/total ${load[3]}: the container's tasks`);
  t.ok(Number(load[4]) >= 1 && Number(load[4]) < 1000, `last pid ${load[4]}: numbered inside the container`);

  t.equal(await read('proc/swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n', 'swaps: no swap (none on the host)');
  const disk = await read('proc/diskstats');
  t.ok(
    disk.split('\n').every((l) => l === '' || /^ +\d+ +\d+ \S+( \d+)+$/.test(l)),
    `diskstats: the container's devices only, in the kernel's columns:\n${disk}`,
  );
  t.notMatch(stderr(), /serving the host's file/, 'no figure fell back to the host');
});

t.test('every process of the container sees the same: a child of init, one entered with nsenter', { skip: ROOT }, async (t) => {
  const { dir, c } = await setup();
  const child = await c.ask<{ text: string; status: number }>({ op: 'child-read', path: `${dir}/proc/meminfo` });
  t.equal(child.status, 0);
  t.equal(fields(child.text).MemTotal, 262144, 'a child of the init');
  // nsenter joins the pid namespace only: the reader's own cgroup is the host's, its init's is the container's.
  const entered = spawnSync('nsenter', ['-t', String(c.pid), '-p', 'cat', `${dir}/proc/meminfo`, `${dir}/sys/devices/system/cpu/online`], {
    encoding: 'utf8',
  });
  t.equal(entered.status, 0, entered.stderr);
  t.equal(fields(entered.stdout).MemTotal, 262144, 'a process entered with nsenter (no ancestor inside)');
  t.match(entered.stdout, /\n0\n$/);
});

t.test('memory it allocates shows as used', { skip: ROOT }, async (t) => {
  const { dir, c } = await setup();
  const before = fields(await c.read(`${dir}/proc/meminfo`));
  await c.ask({ op: 'alloc', mib: 64 });
  const after = fields(await c.read(`${dir}/proc/meminfo`));
  const drop = before.MemFree! - after.MemFree!;
  t.ok(drop >= 60 * 1024 && drop <= 80 * 1024, `MemFree fell by ${drop} kB after 64 MiB were allocated`);
  t.ok(after.AnonPages! - before.AnonPages! >= 60 * 1024, `AnonPages grew by ${after.AnonPages! - before.AnonPages!} kB`);
});

t.test("stat: the container's CPU time against its visible CPU; uptime's idle agrees", { skip: ROOT }, async (t) => {
  const { dir, c, cg } = await setup();
  // The cgroup's own CPU time, read on the host, in clock ticks.
  const usage = () => {
    if (hostLayout().kind === 'v2') return Number(/^usage_usec (\d+)$/m.exec(readFileSync(cg.file('cpu', 'cpu.stat'), 'utf8'))![1]) / 1e4;
    return Number(readFileSync(cg.file('cpuacct', 'cpuacct.usage'), 'utf8')) / 1e7;
  };
  // What top does: the delta of two /proc/stat reads, busy = all but idle and iowait, against the total.
  // Each read is bracketed by the cgroup's own CPU time and the clock, read just before and just after
  // it: its render happened in between, so the deltas lie between those the brackets give (ticks of
  // 10 ms, each figure rounded down: 2 ticks of slack). How much CPU the burn gets depends on what else
  // the machine runs; no share is expected, but the quota bounds it.
  const bracket = async () => {
    const [u0, w0] = [usage(), Date.now()];
    const text = await c.read(`${dir}/proc/stat`);
    const [u1, w1] = [usage(), Date.now()];
    return { text, u0, u1, w0, w1 };
  };
  const r1 = await bracket();
  await c.ask({ op: 'burn', ms: 2000 });
  const r2 = await bracket();
  const [b1, t1] = busyTotal(r1.text);
  const [b2, t2] = busyTotal(r2.text);
  const grew = b2 - b1;
  t.ok(r2.u1 - r1.u0 >= 5, `the burn got ${(r2.u1 - r1.u0).toFixed(1)} ticks of CPU`);
  t.ok(
    grew >= r2.u0 - r1.u1 - 2 && grew <= r2.u1 - r1.u0 + 2,
    `busy time in stat grew by ${grew} ticks; the cgroup's CPU time by ${(r2.u0 - r1.u1).toFixed(1)} to ${(r2.u1 - r1.u0).toFixed(1)} between the renders`,
  );
  // One visible CPU: its columns grow by the time between the renders, as the clock says.
  const [least, most] = [(r2.w0 - r1.w1) / 10, (r2.w1 - r1.w0) / 10];
  t.ok(
    t2 - t1 >= least - 2 && t2 - t1 <= most + 2,
    `stat's total grew by ${t2 - t1} ticks, the clock by ${least.toFixed(0)} to ${most.toFixed(0)} between the renders`,
  );
  // Half a CPU of quota (5 of each 10-tick period) on its one visible CPU: at most half the interval,
  // and one period's quota more for a window that straddles periods (what top shows as 50% busy).
  t.ok(
    grew <= 0.5 * (t2 - t1) + 5 + 2,
    `busy ${grew} of ${t2 - t1} ticks (${((grew / (t2 - t1)) * 100).toFixed(0)}%): within the 50% quota`,
  );
  const before = Date.now();
  const [up, idle] = uptimeOf(await c.read(`${dir}/proc/uptime`));
  const idleTicks = Number(cpuLines(await c.read(`${dir}/proc/stat`))[0]!.split(' ')[4]);
  // An idle container's idle grows by one tick each 10 ms between the two reads.
  const apart = Math.ceil((Date.now() - before) / 10) + 2;
  t.ok(
    idleTicks - idle * 100 >= -2 && idleTicks - idle * 100 <= apart,
    `uptime idle ${idle} s is the stat idle column (${idleTicks} ticks, read ${apart - 2} ticks later)`,
  );
  t.ok(idle < up, 'it was busy part of the time');
});

const [FIXED_1, EXP_1] = [2048, 1884];
/** The kernel's 1-minute load after a 5-second tick with `n` runnable tasks (kernel/sched/loadavg.c
 *  calc_load: FSHIFT 11, EXP_1 1884, rounding up while the load rises). */
const calcLoad = (load: number, n: number) =>
  Math.floor((load * EXP_1 + n * FIXED_1 * (FIXED_1 - EXP_1) + (n * FIXED_1 >= load ? FIXED_1 - 1 : 0)) / FIXED_1);
/** As fs/proc/loadavg.c prints it: FIXED_1/200 added, two decimals. One task from 0: 0.08, 0.15, 0.22, ... */
function printLoad(load: number): string {
  const x = load + Math.floor(FIXED_1 / 200);
  return `${Math.floor(x / FIXED_1)}.${String(Math.floor(((x & (FIXED_1 - 1)) * 100) / FIXED_1)).padStart(2, '0')}`;
}

/**
 * The index of the first of `seen` (1-minute loads as printed, each a tick or more after the one
 * before: a watch may miss ticks) that the kernel's arithmetic cannot give, from 0, with 1 to `most`
 * runnable tasks at each tick (the loop always; at times a thread of the probe too, on a busy
 * machine); -1 when it can give them all.
 */
function firstImpossible(seen: string[], most: number, maxGap = 6): number {
  let states = new Set([0]);
  for (const [i, v] of seen.entries()) {
    const matching = new Set<number>();
    let frontier = states;
    for (let gap = 0; gap < maxGap; gap++) {
      const after = new Set<number>();
      for (const s of frontier) for (let n = 1; n <= most; n++) after.add(calcLoad(s, n));
      for (const s of after) if (printLoad(s) === v) matching.add(s);
      frontier = after;
    }
    if (matching.size === 0) return i;
    states = matching;
  }
  return -1;
}

/*
 * A container under load:
 *   tsproc-test-views-load-PID
 *   └── ctr                         cpuset 0, quota 0.1 CPU (the loop is runnable all the time, it uses little)
 *       ├── (pid namespace) init: the probe, which reads
 *       └── a shell looping, put there from the host
 */
t.test(
  "loadavg: a busy process drives its container's load up tick after tick, as the kernel's arithmetic has it (and lxcfs's)",
  { skip: ROOT },
  async (t) => {
    const d = await setup();
    const cg = makeCgroup(uniqueName('load'), { cpus: '0', quota: 0.1 });
    let c: Container | undefined;
    let busy: ChildProcess | undefined;
    const busyGone = () =>
      new Promise((r) => (busy!.exitCode === null && busy!.signalCode === null ? busy!.once('exit', r) : r(undefined)));
    t.teardown(async () => {
      busy?.kill('SIGKILL');
      if (busy) await busyGone();
      await c?.stop();
      cg.remove();
    });
    c = await startContainer(cg);
    // Read by a process in the container's pid namespace but not in its cgroup (nsenter -p): a reader
    // in the cgroup could be runnable at a tick (waiting for a CPU on a busy machine) and be counted.
    const load = (root: string) => {
      const r = spawnSync('nsenter', ['-t', String(c!.pid), '-p', 'cat', `${root}/proc/loadavg`], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`nsenter cat ${root}/proc/loadavg: ${r.stderr}`);
      const f = r.stdout.trim().split(' ');
      return { one: f[0]!, running: Number(f[3]!.split('/')[0]) };
    };
    // The first read makes the container known to the samplers; its thread list at that moment has no loop.
    const first = load(d.dir);
    t.equal(first.one, '0.00', 'at the first read');
    if (d.lxcfs) load(d.lxcfs);
    busy = spawn('sh', ['-c', `${cg.procs.map((f) => `echo $$ > ${f}`).join(' && ')} && while :; do :; done`], { stdio: 'ignore' });
    // Each sampler ticks every 5 s and counts the runnable tasks: the loop, and on a busy machine at times
    // a thread of the probe, which mostly sleeps. The figure moves as the kernel's arithmetic has it with
    // that many (0.08, 0.15, 0.22, ... for the loop alone). Watched (a read every half second) until it
    // has moved twice; a tick the watch misses leaves out a value, never adds one. The deadline is for a
    // hang, not a speed.
    const seen: Record<string, string[]> = { tsproc: [], lxcfs: [] };
    const roots: [string, string][] = [['tsproc', d.dir], ...(d.lxcfs ? [['lxcfs', d.lxcfs] as [string, string]] : [])];
    let last = first;
    await waitFor(
      async () => {
        for (const [name, root] of roots) {
          const now = load(root);
          if (name === 'tsproc') last = now;
          if (now.one !== '0.00' && now.one !== seen[name]!.at(-1)) seen[name]!.push(now.one);
        }
        await new Promise((r) => setTimeout(r, 500));
        return roots.every(([name]) => seen[name]!.length >= 2);
      },
      `two ticks seen by ${roots.map(([n]) => n).join(' and ')}`,
      120_000,
    );
    const threads = readFileSync(hostLayout().kind === 'v2' ? cg.file('cpu', 'cgroup.threads') : cg.file('cpu', 'tasks'), 'utf8')
      .split('\n')
      .filter(Boolean).length;
    for (const [name] of roots) {
      const bad = firstImpossible(seen[name]!, threads);
      t.equal(
        bad,
        -1,
        `${name}: ${seen[name]!.join(' ')}, as calc_load gives it with 1 to ${threads} runnable tasks a tick (the loop alone: ${[164, 315].map(printLoad).join(' ')} ...)`,
      );
    }
    t.ok(last.running >= 2, `running: the loop and the reader (${last.running})`);
  },
);

/**
 * A block device the test may write: the one TSPROC_TEST_BLOCK_DEVICE names (the cgroup v2 VM's own
 * scratch disk), else a loop device over a tsproc-test image file, detached and removed at the end;
 * or why there is none.
 */
function scratchDisk(t: Teardown): { dev: string; name: string; majMin: string } | string {
  let dev = process.env.TSPROC_TEST_BLOCK_DEVICE;
  if (!dev) {
    const image = `/var/tmp/tsproc-test-disk-${process.pid}.img`;
    t.teardown(() => {
      if (dev) spawnSync('losetup', ['-d', dev]);
      rmSync(image, { force: true });
    });
    writeFileSync(image, '');
    truncateSync(image, 16 * MiB);
    const l = spawnSync('losetup', ['--find', '--show', image], { encoding: 'utf8' });
    if (l.status !== 0) return `no loop device for ${image}: ${l.stderr.trim()}`;
    dev = l.stdout.trim();
  }
  const name = realpathSync(dev).replace('/dev/', '');
  return { dev, name, majMin: readFileSync(`/sys/class/block/${name}/dev`, 'utf8').trim() };
}

t.test("diskstats: a container's own reads and writes to a block device, in the kernel's columns", { skip: ROOT }, async (t) => {
  const { dir, c, cg, stderr } = await setup();
  const disk = scratchDisk(t);
  if (typeof disk === 'string') return t.plan(0, disk);
  if (hostLayout().kind !== 'v2') {
    // v1's blkio counts I/O only to devices with a throttle rule (recent kernels): give it rules that never throttle.
    for (const f of ['blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device'])
      writeFileSync(cg.file('blkio', f), `${disk.majMin} 1000000000000`);
  }
  // O_DIRECT, from the container's init: the cgroup is charged as the I/O is issued (buffered writes
  // would be written back later, charged elsewhere on v1). 4 MiB written, 2 MiB read.
  const dd = (args: string[]) =>
    c.ask<{ status: number; stderr: string }>({ op: 'run', cmd: 'dd', args: [...args, 'bs=1M', 'status=none'] });
  const w = await dd(['if=/dev/zero', `of=${disk.dev}`, 'count=4', 'oflag=direct']);
  t.equal(w.status, 0, `dd to ${disk.dev}: ${w.stderr}`);
  const r = await dd([`if=${disk.dev}`, 'of=/dev/null', 'count=2', 'iflag=direct']);
  t.equal(r.status, 0, `dd from ${disk.dev}: ${r.stderr}`);
  const text = await c.read(`${dir}/proc/diskstats`);
  const line = text.split('\n').find((l) => l.trim().split(/\s+/)[2] === disk.name);
  t.ok(line, `a line for ${disk.name}:\n${text}`);
  if (!line) return;
  const f = line.trim().split(/\s+/);
  const n = f.map(Number);
  t.equal(`${f[0]}:${f[1]}`, disk.majMin, 'its major and minor');
  t.equal(n[5], 4096, 'sectors read: 2 MiB');
  t.equal(n[9], 8192, 'sectors written: 4 MiB');
  // as many requests as the device's largest request allows: at least one a dd block, at most one a page
  t.ok(n[3]! >= 2 && n[3]! <= 512, `reads completed: ${n[3]}`);
  t.ok(n[7]! >= 4 && n[7]! <= 1024, `writes completed: ${n[7]}`);
  t.same(
    n.slice(3).filter((_, i) => ![0, 2, 4, 6].includes(i)),
    Array(n.length - 7).fill(0),
    'merges, times, in flight, discards, flushes: 0 (a cgroup keeps none)',
  );
  const host = readFileSync('/proc/diskstats', 'utf8')
    .split('\n')
    .find((l) => l.trim().split(/\s+/)[2] === disk.name)!
    .trim()
    .split(/\s+/);
  t.equal(f.length, host.length, "the host's columns");
  t.ok(Number(host[9]) >= 8192, `the host counts the writes too (${host[9]} sectors)`);
  t.notMatch(stderr(), /diskstats for .*serving the host's file/, 'served from the cgroup, not the host');
});

t.test('a host process sees the host', { skip: ROOT }, async (t) => {
  const d = await setup();
  // This test process is a host process; its cgroups set no limits (the test host's shell's). Figures
  // that move are read from the host just before and just after: the daemon's lie in between.
  const host = (f: string) => readFileSync(`/${f}`, 'utf8');
  const mine = (f: string) => readFileSync(`${d.dir}/${f}`, 'utf8');
  const [m0, m, m1] = [fields(host('proc/meminfo')), fields(mine('proc/meminfo')), fields(host('proc/meminfo'))];
  t.equal(m.MemTotal, m0.MemTotal, 'MemTotal');
  t.same(Object.keys(m), Object.keys(m0), "meminfo: the host's lines, in its order");
  // (what other processes allocate or free between the reads: 16 MiB at most)
  const [lo, hi] = [Math.min(m0.MemFree!, m1.MemFree!) - 16 * 1024, Math.max(m0.MemFree!, m1.MemFree!) + 16 * 1024];
  t.ok(m.MemFree! >= lo && m.MemFree! <= hi, `MemFree ${m.MemFree} kB: the host's, ${m0.MemFree} then ${m1.MemFree} kB`);
  t.same(processors(mine('proc/cpuinfo')), processors(host('proc/cpuinfo')), 'every CPU');
  t.equal(mine('sys/devices/system/cpu/online'), host('sys/devices/system/cpu/online'));
  const stat = mine('proc/stat');
  t.equal(cpuLines(stat).length, cpuLines(host('proc/stat')).length);
  t.equal(stat.match(/^btime \d+$/m)![0], host('proc/stat').match(/^btime \d+$/m)![0]);
  const [u0, u, u1] = [hostUptime(), uptimeOf(mine('proc/uptime'))[0], hostUptime()];
  t.ok(u >= u0 && u <= u1, `uptime ${u} s: the host's, ${u0} then ${u1} s`);
  t.equal(mine('proc/swaps').split('\n')[0], host('proc/swaps').split('\n')[0]);
  const devices = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[2]);
  t.same(devices(mine('proc/diskstats')), devices(host('proc/diskstats')), "diskstats: the host's devices");
});

const NO_LXCFS = existsSync(LXCFS) ? false : 'lxcfs is not installed (apt-get install lxcfs): nothing to compare with';

t.test(
  'lxcfs (--enable-cfs -l) shows the same where it computes the same figure, and differs where docs/views.md says',
  { skip: ROOT || NO_LXCFS },
  async (t) => {
    const { dir, lxcfs, c, cg } = await setup();
    const ours = (f: string) => c.read(`${dir}/${f}`);
    const theirs = (f: string) => c.read(`${lxcfs!}/${f}`);
    // Figures that move are read from tsproc just before and just after lxcfs: lxcfs's lie in between,
    // give or take 16 pages (64 kB) the probe's runtime may take and give back between the reads.
    const [m0, lm, m1] = [fields(await ours('proc/meminfo')), fields(await theirs('proc/meminfo')), fields(await ours('proc/meminfo'))];
    t.equal(lm.MemTotal, m0.MemTotal, 'MemTotal');
    for (const k of [
      'MemFree',
      'Cached',
      'Shmem',
      'Active(anon)',
      'Inactive(anon)',
      'Active(file)',
      'Inactive(file)',
      'Unevictable',
      'Dirty',
      'Writeback',
    ]) {
      const [lo, hi] = [Math.min(m0[k]!, m1[k]!) - 64, Math.max(m0[k]!, m1[k]!) + 64];
      t.ok(lm[k]! >= lo && lm[k]! <= hi, `${k}: lxcfs ${lm[k]} kB, tsproc ${m0[k]} then ${m1[k]} kB`);
    }
    t.same(processors(await theirs('proc/cpuinfo')), processors(await ours('proc/cpuinfo')), 'cpuinfo: the same CPUs');
    t.equal(await theirs('sys/devices/system/cpu/online'), await ours('sys/devices/system/cpu/online'), 'cpu/online');
    const [u0, lu, u1] = [
      uptimeOf(await ours('proc/uptime'))[0],
      uptimeOf(await theirs('proc/uptime'))[0],
      uptimeOf(await ours('proc/uptime'))[0],
    ];
    t.ok(lu >= u0 - 0.01 && lu <= u1 + 0.01, `uptime: lxcfs ${lu} s, tsproc ${u0} then ${u1} s`);

    // stat: the host's lines (counters that only grow: in between) and btime in both, the same visible
    // CPUs (seen on v1 hybrid and in the cgroup v2 VM); on v1, lxcfs's cpuN lines count from its first
    // read of the container, tsproc's from the container's start.
    const [s0, ls, s1] = [await ours('proc/stat'), await theirs('proc/stat'), await ours('proc/stat')];
    const names = (text: string) => cpuLines(text).map((l) => l.split(' ')[0]);
    const v2 = hostLayout().kind === 'v2';
    t.same(names(ls), names(s0), 'stat: the same cpuN lines');
    const counter = (text: string, k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(text)![1]);
    t.equal(counter(ls, 'btime'), counter(s0, 'btime'), 'btime');
    for (const k of ['intr', 'ctxt', 'processes'])
      t.ok(
        counter(ls, k) >= counter(s0, k) && counter(ls, k) <= counter(s1, k),
        `${k}: the host's, lxcfs ${counter(ls, k)}, tsproc ${counter(s0, k)} then ${counter(s1, k)}`,
      );
    const total = (text: string) =>
      cpuLines(text)[0]!
        .split(' ')
        .slice(1)
        .reduce((a, v) => a + Number(v), 0);
    if (!v2)
      t.ok(
        total(ls) <= total(s0),
        `the difference: lxcfs's cpu0 counts ${total(ls)} ticks since its first look, tsproc's ${total(s0)} since the container started`,
      );

    // swaps: no swap here; the difference is lxcfs's header (one tab fewer before Used and Priority)
    if (fields(readFileSync('/proc/meminfo', 'utf8')).SwapTotal === 0) {
      t.equal(await ours('proc/swaps'), 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n', "tsproc: the kernel's header, no device");
      t.equal(await theirs('proc/swaps'), 'Filename\t\t\t\tType\t\tSize\tUsed\tPriority\n', 'lxcfs: its own header, no device');
    }

    // loadavg: the same tasks, once lxcfs's sampler has counted them (its first read says 0/1, then
    // every 5 s; setup() read it first); the averages are compared tick by tick in the loadavg test.
    const loads = async () => [(await theirs('proc/loadavg')).trim().split(' '), (await ours('proc/loadavg')).trim().split(' ')];
    let [l, o] = await loads();
    await waitFor(
      async () => {
        [l, o] = await loads();
        return l![3]!.split('/')[1] === o![3]!.split('/')[1];
      },
      `lxcfs counts the container's tasks as tsproc does (lxcfs ${l![3]}, tsproc ${o![3]})`,
      30_000,
    );
    const tids = readFileSync(hostLayout().kind === 'v2' ? cg.file('cpu', 'cgroup.threads') : cg.file('cpu', 'tasks'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
    t.equal(Number(o![3]!.split('/')[1]), tids.length, `loadavg: the container's ${tids.length} threads, in both`);
    // the differences: field 5 is lxcfs's highest host thread id of the container, tsproc's newest
    // thread as the container numbers it (its innermost NSpid)
    t.equal(Number(l![4]), Math.max(...tids), "lxcfs's field 5: the highest host thread id");
    const started = (tid: number) => initStart(tid);
    const newest = Math.max(...tids.map(started));
    const nsPid = (tid: number) => Number(/^NSpid:.*\t(\d+)$/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))![1]);
    t.ok(
      tids
        .filter((tid) => started(tid) === newest)
        .map(nsPid)
        .includes(Number(o![4])),
      `tsproc's field 5 (${o![4]}): the newest thread, numbered in the container`,
    );
  },
);

t.test(
  'a container that replaces an ended one (same namespace inode, maybe the same pids) gets its own figures',
  { skip: ROOT },
  async (t) => {
    const d = await setup();
    const a = makeCgroup(uniqueName('first'), { memory: 256 * MiB });
    const b = makeCgroup(uniqueName('second'), { memory: 128 * MiB });
    let ca: Container | undefined;
    let cb: Container | undefined;
    t.teardown(async () => {
      await ca?.stop();
      await cb?.stop();
      a.remove();
      b.remove();
    });
    ca = await startContainer(a);
    const nsA = readlinkSync(`/proc/${ca.pid}/ns/pid`);
    t.equal(fields(await ca.read(`${d.dir}/proc/meminfo`)).MemTotal, 262144);
    await ca.stop();
    cb = await startContainer(b);
    const nsB = readlinkSync(`/proc/${cb.pid}/ns/pid`);
    t.comment(`namespace ${nsA} then ${nsB}${nsA === nsB ? ' (reused)' : ''}`);
    t.equal(fields(await cb.read(`${d.dir}/proc/meminfo`)).MemTotal, 131072, "the second container's limit");
  },
);

/**
 * Processes made (clone or clone3 without CLONE_THREAD, fork, vfork) and namespaces entered (setns) by
 * any thread of `pid` while `during` runs, as strace -f sees them: their lines of strace's output.
 */
async function forksAndSetns(t: Teardown, pid: number, during: () => Promise<void>): Promise<string[]> {
  const out = `/tmp/tsproc-test-strace-${process.pid}.txt`;
  t.teardown(() => rmSync(out, { force: true }));
  const strace = spawn('strace', ['-f', '-e', 'trace=clone,clone3,fork,vfork,setns', '-o', out, '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  strace.stderr!.on('data', (b: Buffer) => (said += b.toString()));
  const ended = new Promise((r) => strace.once('exit', r));
  t.teardown(() => void strace.kill('SIGKILL'));
  // "Process N attached with M threads" once every thread is traced
  await waitFor(() => /attached/.test(said) || strace.exitCode !== null, 'strace attaches');
  if (strace.exitCode !== null) throw new Error(`strace: ${said}`);
  await during();
  strace.kill('SIGINT'); // detaches
  await ended;
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => /\b(setns|fork|vfork)\(/.test(l) || (/\bclone3?\(/.test(l) && !l.includes('CLONE_THREAD')));
}

t.test(
  'a new container is served at its first read, by no fork or setns (timings reported, measured in bench/)',
  { skip: ROOT },
  async (t) => {
    const d = await setup();
    const lxcfs = d.lxcfs;
    const cold = makeCgroup(uniqueName('cold'), { memory: 256 * MiB });
    const started: Container[] = [];
    t.teardown(async () => {
      for (const c of started) await c.stop();
      cold.remove();
    });
    // The shared container first, so that both worker threads have run the view once (compiled code).
    await d.c.ask({ op: 'time-reads', path: `${d.dir}/proc/meminfo`, n: 20 });
    const c = await startContainer(cold);
    started.push(c);
    const times = async (root: string) => {
      const { us } = await c.ask<{ us: number[] }>({ op: 'time-reads', path: `${root}/proc/meminfo`, n: 41 });
      const later = us.slice(1).sort((x, y) => x - y);
      return { first: us[0]!, median: later[Math.floor(later.length / 2)]! };
    };
    // Timings on a shared test machine are noisy and are not asserted (bench/render-cost.ts and
    // bench/views-latency.ts measure the first read). What is: the serving process (its worker threads
    // answer the reads) neither forks nor enters a namespace while it serves the new container's reads
    // (lxcfs forks and setns()es on a cache miss), and the new container gets its own figures.
    let ts = { first: 0, median: 0 };
    const made = await forksAndSetns(t, d.daemonPid, async () => {
      ts = await times(d.dir);
    });
    t.same(made, [], 'no fork, clone of a process or setns in any thread of the serving process');
    t.comment(`tsproc: first read ${ts.first.toFixed(0)} us, median of the next 40 ${ts.median.toFixed(0)} us (traced)`);
    if (lxcfs) {
      const lx = await times(lxcfs);
      t.comment(`lxcfs:  first read ${lx.first.toFixed(0)} us, median of the next 40 ${lx.median.toFixed(0)} us`);
    }
    t.equal(fields(await c.read(`${d.dir}/proc/meminfo`)).MemTotal, 262144, "the new container's limit");
  },
);

t.test('the layout of this host, as its mount table says', async (t) => {
  // independently of src/cgroup-layout.ts: cgroup2 on /sys/fs/cgroup is v2; v1 hierarchies with a cgroup2 mount beside them, hybrid
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => ({ at: l.split(' ')[4], type: l.split(' - ')[1]?.split(' ')[0] }));
  const kind = mounts.some((m) => m.at === '/sys/fs/cgroup' && m.type === 'cgroup2')
    ? 'v2'
    : mounts.some((m) => m.type === 'cgroup2')
      ? 'hybrid'
      : 'v1';
  t.equal(hostLayout().kind, kind, `cgroup layout: ${kind}`);
});
