// Finding whose view a read gets, in a fake /proc: walking up PPid, a setns'd reader, host readers, caches.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createDriver } from '../../../src/daemon/cgroup/create-driver.js';
import { hostLayout } from '../../../src/cgroup-layout.js';
import { DescriptorCache } from '../../../src/daemon/io/file-source.js';
import { parseNsLink, parseStartTime, parseState, parseStatus } from '../../../src/daemon/reader/proc-parse.js';
import { ReaderResolver } from '../../../src/daemon/reader/resolver.js';

const HOST_NS = 4026531836;
const CTR_NS = 4026532400;

interface Proc {
  pid: number;
  /** a thread: the process it belongs to */
  tgid?: number;
  ppid: number;
  nspid: number[];
  ns: number;
  cgroup: string;
  start?: number;
}

/** A /proc with the daemon's namespace, and processes as given. */
function fakeProc(t: { teardown(fn: () => void): void }, procs: Proc[]): string {
  const root = mkdtempSync('/tmp/tsproc-test-proc-');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(`${root}/self/ns`, { recursive: true });
  symlinkSync(`pid:[${HOST_NS}]`, `${root}/self/ns/pid`);
  for (const p of procs) addProc(root, p);
  return root;
}

function addProc(root: string, p: Proc): void {
  const d = `${root}/${p.pid}`;
  rmSync(d, { recursive: true, force: true });
  mkdirSync(`${d}/ns`, { recursive: true });
  symlinkSync(`pid:[${p.ns}]`, `${d}/ns/pid`);
  writeFileSync(
    `${d}/status`,
    `Name:\tx\nState:\tS (sleeping)\nTgid:\t${p.tgid ?? p.pid}\nPid:\t${p.pid}\nPPid:\t${p.ppid}\nNSpid:\t${p.nspid.join('\t')}\n`,
  );
  writeFileSync(`${d}/stat`, `${p.pid} (a (b) c) S ${p.ppid} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${p.start ?? 100} 0 0\n`);
  writeFileSync(`${d}/comm`, 'x\n');
  writeFileSync(`${d}/cgroup`, p.cgroup);
}

/*
 * The fake machine (v2):
 *   pid 10   host shell                    ns HOST, cgroup /user.slice/session-1.scope
 *   pid 29   nsenter (a host process)      ns HOST
 *   pid 20   the container's init (1)      ns CTR, parent 10, cgroup /docker/abc/init.scope, start 5000
 *   pid 21   a child of init (5)           ns CTR, parent 20
 *   pid 22   a grandchild (6)              ns CTR, parent 21
 *   pid 30   entered with setns (9)        ns CTR, parent 29 (outside the namespace)
 *   tid 23   a second thread of the init (7) ns CTR, thread group 20
 */
const MACHINE: Proc[] = [
  { pid: 10, ppid: 1, nspid: [10], ns: HOST_NS, cgroup: '0::/user.slice/session-1.scope\n' },
  { pid: 29, ppid: 10, nspid: [29], ns: HOST_NS, cgroup: '0::/user.slice/session-1.scope\n' },
  { pid: 20, ppid: 10, nspid: [20, 1], ns: CTR_NS, cgroup: '0::/docker/abc/init.scope\n', start: 5000 },
  { pid: 21, ppid: 20, nspid: [21, 5], ns: CTR_NS, cgroup: '0::/docker/abc/init.scope\n' },
  { pid: 22, ppid: 21, nspid: [22, 6], ns: CTR_NS, cgroup: '0::/docker/abc/app\n' },
  { pid: 30, ppid: 29, nspid: [30, 9], ns: CTR_NS, cgroup: '0::/user.slice/session-1.scope\n' },
  { pid: 23, tgid: 20, ppid: 10, nspid: [23, 7], ns: CTR_NS, cgroup: '0::/docker/abc/init.scope\n' },
];

/** Counts the /proc files read. */
class CountingFiles extends DescriptorCache {
  reads: string[] = [];
  override readOnce(path: string) {
    this.reads.push(path);
    return super.readOnce(path);
  }
}

function resolver(procRoot: string, o: { now?: () => number; recheckMs?: number; capacity?: number; settlingMs?: number } = {}) {
  const files = new CountingFiles();
  const driver = createDriver({ files, layout: { kind: 'v2', v1: {}, unified: '/nonexistent' } });
  const r = new ReaderResolver({ files, driver, procRoot, ...o });
  return { r, files };
}

t.test('the /proc parsers', async (t) => {
  t.same(parseStatus('Tgid:\t22\nPPid:\t20\nNSpid:\t22\t6\n'), { tgid: 22, ppid: 20, nspid: [22, 6] });
  t.equal(parseStatus('PPid:\t20\n'), undefined, 'no NSpid line (a kernel before 4.1)');
  t.equal(parseStartTime('7 (a (b) c) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n'), 5000, 'parentheses in the name');
  t.equal(parseState('7 (sh) R 1 0'), 'R');
  t.equal(parseNsLink('pid:[4026531836]'), 4026531836);
});

t.test("a host process: the daemon's namespace, its own cgroup", async (t) => {
  const { r } = resolver(fakeProc(t, MACHINE));
  const host = r.resolve(10)!;
  t.equal(host.scope, 'host');
  t.equal(host.cgroup.memory, '/user.slice/session-1.scope');
  t.equal(host.start, 0);
  t.equal(r.resolve(0), undefined, 'pid 0: a caller the daemon cannot see');
  t.equal(r.resolve(999), undefined, 'a process already gone');
});

t.test("a container's processes: their init's cgroup, /init.scope stripped", async (t) => {
  const { r } = resolver(fakeProc(t, MACHINE));
  for (const pid of [20, 21, 22]) {
    const c = r.resolve(pid)!;
    t.equal(c.scope, 'container', `pid ${pid}`);
    t.equal(c.pid, 20, `pid ${pid}: init found`);
    t.equal(c.cgroup.memory, '/docker/abc', "init's cgroup, not the reader's");
    t.equal(c.start, 5000);
  }
  t.equal(r.containers, 1, 'one namespace remembered');
});

t.test('a process entered with setns: its parents are outside, /proc is looked through', async (t) => {
  const { r } = resolver(fakeProc(t, MACHINE));
  const c = r.resolve(30)!;
  t.equal(c.pid, 20);
  t.equal(c.cgroup.cpu, '/docker/abc');
});

t.test('a thread of the init: its process is the init (no /proc scan)', async (t) => {
  const { r } = resolver(fakeProc(t, MACHINE));
  const before = r.syscalls;
  t.equal(r.resolve(23)!.pid, 20);
  t.equal(r.syscalls - before, 2, 'two namespace links read (the thread, then the init): no look through /proc');
});

t.test('caches: a known namespace costs no /proc/PID file; a known pid nothing', async (t) => {
  const { r, files } = resolver(fakeProc(t, MACHINE));
  r.resolve(22);
  files.reads = [];
  r.resolve(21);
  t.same(files.reads, [], 'a new pid of a known container: its namespace link only');
  r.resolve(21);
  t.same(files.reads, []);
});

t.test("a removed cgroup invalidates; the init's cgroup is read again after a while", async (t) => {
  let now = 0;
  const proc = fakeProc(t, MACHINE);
  const { r, files } = resolver(proc, { now: () => now, recheckMs: 10000 });
  const first = r.resolve(21)!;
  r.invalidate(first);
  t.equal(first.valid, false);
  const again = r.resolve(21)!;
  t.not(again, first, 'found afresh');
  t.ok(again.valid);
  writeFileSync(`${proc}/20/cgroup`, '0::/docker/moved\n');
  now = 5000;
  t.equal(r.resolve(22)!.cgroup.memory, '/docker/abc', 'within the recheck time');
  now = 20000;
  files.reads = [];
  t.equal(r.resolve(21)!.cgroup.memory, '/docker/moved', 'moved: seen after the recheck time');
  t.same(files.reads, [`${proc}/20/cgroup`]);
});

t.test('a container is settling for settlingMs after it is first seen, from any of its processes; a host reader never', async (t) => {
  let now = 0;
  const { r } = resolver(fakeProc(t, MACHINE), { now: () => now, settlingMs: 2000 });
  const c = r.resolve(21)!;
  t.ok(r.settling(c), 'first seen now: its runtime may not have written its limits yet');
  now = 1500;
  t.ok(r.settling(r.resolve(22)!), 'another process of it, 1.5 s later');
  now = 2000;
  t.notOk(r.settling(r.resolve(20)!), '2 s after it was first seen');
  t.notOk(r.settling(r.resolve(10)!), 'a host reader');
});

t.test('a namespace whose init cannot be found (already gone): no reader', async (t) => {
  const { r } = resolver(fakeProc(t, [{ pid: 40, ppid: 1, nspid: [40, 3], ns: CTR_NS + 1, cgroup: '0::/x\n' }]));
  t.equal(r.resolve(40), undefined);
});

t.test('at capacity the oldest namespace is forgotten and its descriptor closed', async (t) => {
  const procs: Proc[] = [];
  for (let i = 0; i < 4; i++) procs.push({ pid: 100 + i, ppid: 1, nspid: [100 + i, 1], ns: CTR_NS + 10 + i, cgroup: `0::/c${i}\n` });
  const { r } = resolver(fakeProc(t, procs), { capacity: 2 });
  for (let i = 0; i < 4; i++) t.equal(r.resolve(100 + i)!.cgroup.memory, `/c${i}`);
  t.equal(r.containers, 2);
  r.close();
  t.equal(r.containers, 0);
});

t.test('at capacity the least recently used namespace is forgotten, not the oldest', async (t) => {
  const procs: Proc[] = [];
  for (let i = 0; i < 3; i++) procs.push({ pid: 100 + i, ppid: 1, nspid: [100 + i, 1], ns: CTR_NS + 10 + i, cgroup: `0::/c${i}\n` });
  procs.push({ pid: 110, ppid: 100, nspid: [110, 2], ns: CTR_NS + 10, cgroup: '0::/c0\n' });
  procs.push({ pid: 111, ppid: 100, nspid: [111, 3], ns: CTR_NS + 10, cgroup: '0::/c0\n' });
  const { r, files } = resolver(fakeProc(t, procs), { capacity: 2 });
  r.resolve(100);
  r.resolve(101);
  r.resolve(110);
  r.resolve(102);
  files.reads = [];
  t.equal(r.resolve(111)!.cgroup.memory, '/c0');
  t.same(files.reads, [], 'the first container, read since, was kept');
});

const openDescriptors = () => readdirSync('/proc/self/fd').length;

t.test('a failed read while a new container is looked up leaves no descriptor open', async (t) => {
  const proc = fakeProc(t, MACHINE);
  // The init's stat cannot be read (EISDIR) once its comm is open.
  rmSync(`${proc}/20/stat`);
  mkdirSync(`${proc}/20/stat`);
  const { r } = resolver(proc);
  const before = openDescriptors();
  t.throws(() => r.resolve(21), { code: 'EISDIR' });
  t.equal(openDescriptors(), before);
});

const ROOT = process.getuid?.() === 0 ? false : 'needs root: it makes a pid namespace';

t.test('the namespaces of ended containers are forgotten within the recheck time, their descriptors closed', { skip: ROOT }, async (t) => {
  // A real container: `sleep` as the init of a new pid namespace (a fake /proc file never ends).
  const unshare = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
  const exited = new Promise((r) => unshare.once('exit', r));
  t.teardown(async () => {
    unshare.kill('SIGKILL');
    await exited;
  });
  const children = `/proc/${unshare.pid}/task/${unshare.pid}/children`;
  const initPid = async (): Promise<number> => {
    for (;;) {
      const pid = Number(readFileSync(children, 'utf8').trim().split(' ')[0]);
      if (pid > 0 && readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n') return pid;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const init = await initPid();
  let now = 0;
  const files = new DescriptorCache();
  const r = new ReaderResolver({ files, driver: createDriver({ files, layout: hostLayout() }), now: () => now, recheckMs: 10000 });
  const before = openDescriptors();
  t.equal(r.resolve(init)!.pid, init, 'the container, found');
  t.equal(r.containers, 1);
  t.equal(openDescriptors(), before + 1, "a descriptor on its init's comm");
  unshare.kill('SIGKILL');
  await exited;
  while (existsSync(`/proc/${init}`)) await new Promise((r) => setTimeout(r, 10));
  now = 10000;
  r.resolve(process.pid);
  t.equal(r.containers, 0, 'forgotten at the next read after the recheck time');
  t.equal(openDescriptors(), before, 'its descriptor closed');
});
