// The content module: every view for a fixture reader; the host's file and one log line when data is missing.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createFiles, ViewContent } from '../../src/daemon/content.js';
import { VIEWS } from '../../src/daemon/views/registry.js';
import { VIEW_NAMES, VIEW_PATHS, type ViewName } from '../../src/daemon/views/paths.js';
import { SERVED_PATHS } from '../../src/served-files.js';
import { copyFixture, fixtureLayout } from '../helpers/fixtures.js';
import { EXPECTED_FILES } from '../helpers/served-files.js';

/*
 * The v2 fixture tree with a fake /proc: pid 500 is the init (1) of a container whose cgroup is
 * /tsproc/ctr1; pid 501 is a host process in /user.slice (no limits).
 */
function setup(t: { teardown(fn: () => void): void }) {
  const root = copyFixture(t, 'v2');
  const proc = mkdtempSync('/tmp/tsproc-test-proc-');
  t.teardown(() => rmSync(proc, { recursive: true, force: true }));
  const add = (pid: number, ns: number, nspid: string, cgroup: string) => {
    mkdirSync(`${proc}/${pid}/ns`, { recursive: true });
    symlinkSync(`pid:[${ns}]`, `${proc}/${pid}/ns/pid`);
    writeFileSync(`${proc}/${pid}/status`, `PPid:\t1\nNSpid:\t${nspid}\n`);
    writeFileSync(`${proc}/${pid}/stat`, `${pid} (sh) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 249 0 0\n`);
    writeFileSync(`${proc}/${pid}/comm`, 'sh\n');
    writeFileSync(`${proc}/${pid}/cgroup`, cgroup);
  };
  mkdirSync(`${proc}/self/ns`, { recursive: true });
  symlinkSync('pid:[100]', `${proc}/self/ns/pid`);
  add(500, 200, '500\t1', '0::/tsproc/ctr1\n');
  add(501, 100, '501', '0::/user.slice\n');
  const logs: string[] = [];
  const options = { hostRoot: `${root}/host`, procRoot: proc, layout: fixtureLayout('v2', root) };
  const content = new ViewContent(
    options,
    {},
    () => undefined,
    (m) => logs.push(m),
  );
  const host = (name: keyof typeof VIEW_PATHS) => content.files.readOnce(`${root}/host${VIEW_PATHS[name].host}`);
  return { root, proc, content, logs, host, options };
}

const view = (name: string) => VIEWS.find((v) => v.name === name)!;

/** The views, one a served file (README.md's list), written out. */
const NAMES: ViewName[] = ['cpu-online', 'cpuinfo', 'diskstats', 'loadavg', 'meminfo', 'stat', 'swaps', 'uptime'];

t.test('every view renders for the container; the host reader gets the host files', async (t) => {
  const s = setup(t);
  t.same([...VIEW_NAMES].sort(), NAMES, 'a view for each served file, and no other');
  for (const name of NAMES) {
    const text = s.content.render(view(name), 500);
    t.ok(text.length > 0 || name === 'diskstats', `${name} for the container`);
    t.equal(s.content.render(view(name), 501), s.host(name), `${name} for the host reader: the host's`);
    t.equal(s.content.render(view(name), 0), s.host(name), `${name} for pid 0: the host's`);
  }
  t.match(s.content.render(view('meminfo'), 500), /^MemTotal:\s+262144 kB$/m);
  t.equal(s.content.render(view('cpu-online'), 500), '0\n');
  t.same(s.logs, []);
});

t.test("a host reader's host file: one read for a file of one record, to the end for others", async (t) => {
  const s = setup(t);
  const cost = (name: string) => {
    s.content.render(view(name), 501);
    const before = s.content.files.syscalls;
    s.content.render(view(name), 501);
    return s.content.files.syscalls - before;
  };
  t.equal(cost('loadavg'), 1);
  t.equal(cost('cpuinfo'), 2, 'many records: a read more, which gives nothing');
});

t.test('missing data: the host file, one log line per container and file', async (t) => {
  const s = setup(t);
  rmSync(`${s.root}/cgroup/tsproc/ctr1/io.stat`);
  rmSync(`${s.root}/cgroup/tsproc/ctr1/memory.stat`);
  for (let i = 0; i < 3; i++) {
    t.equal(s.content.render(view('diskstats'), 500), s.host('diskstats'));
    t.equal(s.content.render(view('meminfo'), 500), s.host('meminfo'));
  }
  t.equal(s.logs.length, 2, 'two files, said once each');
  t.match(
    s.logs[0],
    /^diskstats for the container of pid namespace 200 \(init pid 500, cgroup \/tsproc\/ctr1\): .*io\.stat does not exist; serving the host's file/,
  );
  t.match(s.logs[1], /^meminfo for the container/);
});

t.test('an error while finding the reader (EMFILE, EISDIR...): the host file, one log line', async (t) => {
  const s = setup(t);
  // pid 502 in a namespace of its own, whose /proc/502/status cannot be read.
  mkdirSync(`${s.proc}/502/ns`, { recursive: true });
  symlinkSync('pid:[300]', `${s.proc}/502/ns/pid`);
  mkdirSync(`${s.proc}/502/status`);
  for (let i = 0; i < 2; i++) t.equal(s.content.render(view('meminfo'), 502), s.host('meminfo'));
  t.equal(s.logs.length, 1, 'said once');
  t.match(s.logs[0], /^meminfo for pid 502: cannot tell whose view it is: .*EISDIR.*; serving the host's file/);
});

t.test('garbage never goes out: a malformed figure gives the host file', async (t) => {
  const s = setup(t);
  writeFileSync(`${s.root}/cgroup/tsproc/ctr1/memory.current`, 'lots\n');
  t.equal(s.content.render(view('meminfo'), 500), s.host('meminfo'));
  t.match(s.logs[0], /cannot parse memory.current/);
});

t.test('a removed cgroup: the reader is looked up again, once, and its new cgroup used', async (t) => {
  const s = setup(t);
  t.match(s.content.render(view('meminfo'), 500), /^MemTotal:\s+262144 kB$/m);
  // The container's init moves to tsproc (1 GiB) and ctr1 is removed.
  writeFileSync(`${s.proc}/500/cgroup`, '0::/tsproc\n');
  rmSync(`${s.root}/cgroup/tsproc/ctr1`, { recursive: true });
  // A removed cgroup's descriptors answer ENODEV, a fixture's deleted files still read: close them.
  s.content.files.close();
  // The same content, whose resolver remembers the old cgroup: the render fails, looks up afresh, retries.
  t.match(s.content.render(view('meminfo'), 500), /^MemTotal:\s+983496 kB$/m, "the VM's memory: tsproc's 1 GiB is above it");
  t.same(s.logs, []);
  t.match(s.content.render(view('meminfo'), 500), /^MemTotal:\s+983496 kB$/m, 'the new cgroup is remembered');
  // Once only: the new cgroup removed too between the look-up and the render gives the host's file.
  writeFileSync(`${s.proc}/500/cgroup`, '0::/gone\n');
  rmSync(`${s.root}/cgroup/tsproc`, { recursive: true });
  s.content.files.close();
  let lookups = 0;
  const resolve = s.content.resolver.resolve.bind(s.content.resolver);
  s.content.resolver.resolve = (pid: number) => (lookups++, resolve(pid));
  t.equal(s.content.render(view('meminfo'), 500), s.host('meminfo'), "the host's file");
  t.equal(lookups, 2, 'looked up again once, not more');
  t.equal(s.logs.length, 1, 'and said once');
});

t.test('host files pass through byte for byte: a non-ASCII cpuinfo model name, a cgroup named in UTF-8', async (t) => {
  const s = setup(t);
  // A UTF-8 model name and a byte that is no UTF-8 at all (0xe9, latin1's e acute).
  const cpuinfo = `${s.root}/host/proc/cpuinfo`;
  const bytes = Buffer.from(readFileSync(cpuinfo, 'latin1').replaceAll('QEMU TCG CPU', 'Xeon\u00c2\u00ae caf\u00e9'), 'latin1');
  writeFileSync(cpuinfo, bytes);
  const model = Buffer.from('model name\t: Xeon\u00ae caf', 'utf8');
  const specs = createFiles(s.options);
  const file = (path: string, pid: number) => specs.find((f) => f.path === path)!.render({ pid, uid: 0, gid: 0 }) as Buffer;
  t.same(file('proc/cpuinfo', 501), bytes, "the host reader: the host's bytes");
  const mine = file('proc/cpuinfo', 500);
  const at = mine.indexOf(model);
  t.ok(at >= 0, "the container: the model name's UTF-8 unchanged");
  t.equal(mine[at + model.length], 0xe9, 'and the byte that is no UTF-8');
  // A cgroup whose name is UTF-8: /proc/PID/cgroup gives its bytes, the files are found under it.
  renameSync(`${s.root}/cgroup/tsproc/ctr1`, `${s.root}/cgroup/tsproc/ctr-\u00e9`);
  writeFileSync(`${s.proc}/500/cgroup`, '0::/tsproc/ctr-\u00e9\n');
  t.match(file('proc/meminfo', 500).toString(), /^MemTotal:\s+262144 kB$/m, "the cgroup's limit");
  t.same(s.logs, []);
});

// runc stats the files it binds from inside the new container before it writes the cgroup's limits
// (seen with tsproc mount -d: GETATTR from runc init's pid); docker and Kubernetes run runc.
t.test("a container's limit written after the daemon's first look shows at the next read", async (t) => {
  const s = setup(t);
  writeFileSync(`${s.root}/cgroup/tsproc/ctr1/memory.max`, 'max\n');
  writeFileSync(`${s.root}/cgroup/tsproc/memory.max`, 'max\n');
  const content = new ViewContent({ ...s.options, settlingMs: 60_000 }, {}, () => undefined);
  t.match(content.render(view('meminfo'), 500), /^MemTotal:\s+983496 kB$/m, "no limit yet: the host's total");
  writeFileSync(`${s.root}/cgroup/tsproc/ctr1/memory.max`, '268435456\n');
  t.match(content.render(view('meminfo'), 500), /^MemTotal:\s+262144 kB$/m, 'the limit, not a setting kept from the first look');
});

t.test('createFiles: the daemon serves exactly the 8 files, the list `tsproc run --lxcfs` and `tsproc mounts` bind', async (t) => {
  const s = setup(t);
  const specs = createFiles(s.options);
  t.same(specs.map((f) => f.path).sort(), EXPECTED_FILES);
  t.same([...SERVED_PATHS], EXPECTED_FILES, 'the shared list, in path order');
  const meminfo = specs.find((f) => f.path === 'proc/meminfo')!;
  t.match(String(meminfo.render({ pid: 500, uid: 0, gid: 0 })), /^MemTotal:\s+262144 kB$/m);
});

t.test('a reader not seen before: the worker is told first (another takes requests meanwhile); a known one: not', async (t) => {
  const s = setup(t);
  let slow = 0;
  const content = new ViewContent(
    s.options,
    {},
    () => undefined,
    () => undefined,
    () => slow++,
  );
  content.render(view('meminfo'), 500);
  t.equal(slow, 1, 'the container reader, first seen');
  content.render(view('meminfo'), 500);
  content.render(view('uptime'), 500);
  t.equal(slow, 1, 'known now: renders from what is at hand');
  content.render(view('meminfo'), 501);
  t.equal(slow, 2, 'the host reader, first seen');
});
