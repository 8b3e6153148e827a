// The load sampler over a fixture cgroup and a fake /proc: registration, averages, expiry, removal.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createDriver } from '../../../src/daemon/cgroup/create-driver.js';
import { hostLayout } from '../../../src/cgroup-layout.js';
import { DescriptorCache } from '../../../src/daemon/io/file-source.js';
import { formatLoad } from '../../../src/daemon/loadavg/calc.js';
import { LoadSampler } from '../../../src/daemon/loadavg/sampler.js';
import { LoadSource } from '../../../src/daemon/loadavg/source.js';
import { LoadTable } from '../../../src/daemon/loadavg/table.js';
import { countTasks } from '../../../src/daemon/loadavg/tasks.js';
import { makeCgroup, uniqueName } from '../../helpers/container.js';
import { copyFixture, fixtureLayout } from '../../helpers/fixtures.js';

const ROOT = process.getuid?.() === 0 ? false : 'needs root: it makes a cgroup';

/*
 * v2 fixture, tsproc/ctr1 holding threads 139 144 145 146 147 148 151 (139 is pid 1 inside, 151 is 9);
 * the fake /proc gives their states: 139 R, 144 D, the others S.
 */
function setup(t: { teardown(fn: () => void): void }) {
  const root = copyFixture(t, 'v2');
  const proc = mkdtempSync('/tmp/tsproc-test-proc-');
  t.teardown(() => rmSync(proc, { recursive: true, force: true }));
  const state = (tid: number, s: string) => {
    mkdirSync(`${proc}/${tid}`, { recursive: true });
    writeFileSync(`${proc}/${tid}/stat`, `${tid} (node) ${s} 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 7 0 249 0 0\n`);
    writeFileSync(`${proc}/${tid}/status`, `PPid:\t1\nNSpid:\t${tid}\t${tid === 151 ? 9 : tid - 138}\n`);
  };
  for (const tid of [139, 144, 145, 146, 147, 148, 151]) state(tid, tid === 139 ? 'R' : tid === 144 ? 'D' : 'S');
  const files = new DescriptorCache();
  const driver = createDriver({ files, layout: fixtureLayout('v2', root) });
  const cgroup = driver.paths('0::/tsproc/ctr1\n');
  return { root, proc, files, driver, cgroup, state };
}

t.test('counting tasks: states, total, the highest pid as the namespace numbers it', async (t) => {
  const s = setup(t);
  t.same(countTasks(s.files, s.driver, s.cgroup, { procRoot: s.proc, depth: 2 }), { running: 1, blocked: 1, total: 7, lastPid: 9 });
  t.same(
    countTasks(s.files, s.driver, s.cgroup, { procRoot: s.proc, reader: 144, depth: 2 }),
    { running: 1, blocked: 0, total: 7, lastPid: 9 },
    'the reader (waiting for tsproc, in D): its state not counted',
  );
  t.same(
    countTasks(s.files, s.driver, s.cgroup, { procRoot: s.proc, reader: 139, depth: 2 }),
    { running: 0, blocked: 1, total: 7, lastPid: 9 },
    'nor when in R',
  );
  rmSync(`${s.proc}/148`, { recursive: true });
  t.equal(countTasks(s.files, s.driver, s.cgroup, { procRoot: s.proc, depth: 2 }).total, 6, 'a thread that ended meanwhile is not counted');
});

t.test("the last pid: the newest task's (by start time: pids wrap round), in the container's namespace", async (t) => {
  const s = setup(t);
  // Thread 120 started after the others (the pid counter wrapped round): pid 2 inside. Thread 170, the
  // newest, is a helper in the cgroup but in the host's pid namespace only.
  const add = (tid: number, start: number, nspid: string) => {
    mkdirSync(`${s.proc}/${tid}`, { recursive: true });
    writeFileSync(`${s.proc}/${tid}/stat`, `${tid} (sh) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 0 0\n`);
    writeFileSync(`${s.proc}/${tid}/status`, `PPid:\t1\nNSpid:\t${nspid}\n`);
  };
  add(120, 300, '120\t2');
  add(170, 400, '170');
  writeFileSync(`${s.root}/cgroup/tsproc/ctr1/cgroup.threads`, '120\n139\n144\n145\n146\n147\n148\n151\n170\n');
  t.equal(countTasks(s.files, s.driver, s.cgroup, { procRoot: s.proc, depth: 2 }).lastPid, 2);
  t.equal(
    countTasks(s.files, s.driver, s.cgroup, { procRoot: s.proc, depth: 1 }).lastPid,
    170,
    "as the host's namespace numbers them: the helper",
  );
});

t.test('registration, ticks, expiry; workers read the shared table', async (t) => {
  const s = setup(t);
  let now = 1000;
  const buf = LoadTable.create(16);
  const log: string[] = [];
  const sampler = new LoadSampler({
    table: buf,
    files: s.files,
    driver: s.driver,
    procRoot: s.proc,
    now: () => now,
    log: (m) => log.push(m),
  });
  const posted: unknown[] = [];
  const reader = { scope: 'container' as const, key: 'k', label: 'c', cgroup: s.cgroup, pid: 139, start: 249, depth: 2, valid: true };
  const source = new LoadSource({
    driver: s.driver,
    table: buf,
    post: (m) => posted.push(m),
    count: (r, tid) => countTasks(s.files, s.driver, r.cgroup, { procRoot: s.proc, reader: tid, depth: r.depth }),
    now: () => now,
  });

  const first = source.sample(reader, 145);
  t.same(first, { avg: [0, 0, 0], running: 2, blocked: 1, total: 7, lastPid: 9 }, 'not tracked yet: counted on the spot');
  t.same(posted, [{ type: 'loadavg-register', key: '/tsproc/ctr1', cgroup: s.cgroup, reader: 145, depth: 2 }]);
  source.sample(reader, 145);
  t.equal(posted.length, 1, 'asked once, not at every read');

  sampler.handle(posted[0]);
  sampler.handle({ type: 'something else' });
  t.equal(sampler.size, 1);
  const registered = source.sample(reader, 146);
  t.same(registered.avg, [0, 0, 0], 'averages start at 0');
  t.equal(registered.running, 2, 'counted at registration (139 R), and the reader');

  for (let i = 0; i < 12; i++) sampler.tick();
  const after = source.sample(reader, 146);
  t.equal(formatLoad(after.avg[0]), '1.27', 'two tasks (R and D) for a minute: 2 * (1 - 1/e), rounded up while rising');
  t.equal(after.running, 2, '139 R, and the reader');
  t.equal(after.blocked, 1);

  now += 601;
  sampler.tick();
  t.equal(sampler.size, 0, 'not read for 10 minutes: dropped');
  t.equal(new LoadTable(buf).find('/tsproc/ctr1'), -1);
  t.same(log, []);
});

t.test('every tick reads the thread list afresh: the counts and averages follow the cgroup', async (t) => {
  const s = setup(t);
  const buf = LoadTable.create(16);
  const sampler = new LoadSampler({ table: buf, files: s.files, driver: s.driver, procRoot: s.proc });
  const table = new LoadTable(buf);
  sampler.handle({ type: 'loadavg-register', key: '/tsproc/ctr1', cgroup: s.cgroup, reader: 0, depth: 2 });
  const slot = table.find('/tsproc/ctr1');
  t.same(table.read(slot), { avg: [0, 0, 0], running: 1, blocked: 1, total: 7, lastPid: 9, samples: 1 }, 'registered: 139 R, 144 D');
  sampler.handle({ type: 'loadavg-register', key: '/', cgroup: { ...s.cgroup, cpu: '/', pids: '/' }, reader: 0 });
  t.equal(sampler.size, 1, 'a container whose threads are the root cgroup (every host task) is not sampled');
  // Three new threads, all running; 144 and 151 end.
  for (const tid of [160, 161, 162]) s.state(tid, 'R');
  writeFileSync(`${s.root}/cgroup/tsproc/ctr1/cgroup.threads`, '139\n145\n146\n147\n148\n160\n161\n162\n');
  sampler.tick();
  const after = table.read(slot)!;
  t.same(
    { running: after.running, blocked: after.blocked, total: after.total },
    { running: 4, blocked: 0, total: 8 },
    'the new thread list',
  );
  t.ok(after.avg[0] > 0, `the 1-minute average moved (${formatLoad(after.avg[0])})`);
});

/*
 * A real cgroup (a held descriptor on a removed cgroup's file answers ENODEV; a fixture's deleted
 * file would still read):
 *   tsproc-test-views-sampler-PID/ctr      one `sleep`, then nothing, then removed
 */
t.test('a real cgroup: its thread list followed at every tick, its removal noticed', { skip: ROOT }, async (t) => {
  const cg = makeCgroup(uniqueName('sampler'), {});
  const sleeper = spawn('sh', ['-c', `${cg.procs.map((f) => `echo $$ > ${f}`).join(' && ')} && exec sleep 600`], { stdio: 'ignore' });
  const gone = new Promise((r) => sleeper.once('exit', r));
  t.teardown(async () => {
    sleeper.kill('SIGKILL');
    await gone;
    cg.remove();
  });
  // Joined once it runs sleep.
  while (readFileSync(`/proc/${sleeper.pid}/comm`, 'utf8') !== 'sleep\n') await new Promise((r) => setTimeout(r, 10));
  const files = new DescriptorCache();
  const driver = createDriver({ files, layout: hostLayout() });
  const cgroup = driver.paths(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8'));
  const buf = LoadTable.create(16);
  const table = new LoadTable(buf);
  const sampler = new LoadSampler({ table: buf, files, driver });
  sampler.handle({ type: 'loadavg-register', key: 'k', cgroup, reader: 0 });
  t.equal(table.read(table.find('k'))!.total, 1, 'registered: the sleep');
  sleeper.kill('SIGKILL');
  await gone;
  sampler.tick();
  t.equal(table.read(table.find('k'))!.total, 0, 'it ended: no task');
  cg.remove();
  sampler.tick();
  t.equal(sampler.size, 0, 'the cgroup was removed: dropped');
});

t.test('a cgroup that goes away is dropped at the next tick; a full table is said once', async (t) => {
  const s = setup(t);
  const buf = LoadTable.create(4);
  const log: string[] = [];
  const sampler = new LoadSampler({ table: buf, files: s.files, driver: s.driver, procRoot: s.proc, log: (m) => log.push(m) });
  sampler.handle({ type: 'loadavg-register', key: '/tsproc/ctr1', cgroup: s.cgroup, reader: 0 });
  const gone = { ...s.cgroup, pids: '/tsproc/gone', cpu: '/tsproc/gone' };
  sampler.handle({ type: 'loadavg-register', key: '/tsproc/gone', cgroup: gone, reader: 0 });
  t.equal(sampler.size, 1, 'a cgroup with no thread list is not kept');
  for (const k of ['/x1', '/x2', '/x3']) sampler.handle({ type: 'loadavg-register', key: k, cgroup: s.cgroup, reader: 0 });
  t.equal(sampler.size, 3);
  t.equal(log.length, 1);
  t.match(log[0], /table is full/);
});
