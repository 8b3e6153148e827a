// Reading files by pread on held descriptors: fresh contents, memo within a render, absent files, big files.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DescriptorCache, ONE_RECORD } from '../../../src/daemon/io/file-source.js';

t.test('held descriptors are read again from offset 0; one syscall a read of a one-record file', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(`${dir}/a`, 'one\n');
  const f = new DescriptorCache();
  t.equal(f.read(`${dir}/a`, ONE_RECORD), 'one\n');
  t.equal(f.held, 1);
  writeFileSync(`${dir}/a`, 'two\n');
  t.equal(f.read(`${dir}/a`, ONE_RECORD), 'one\n', 'the same render: read once');
  f.beginRender();
  let before = f.syscalls;
  t.equal(f.read(`${dir}/a`, ONE_RECORD), 'two\n', 'a new render: read afresh');
  t.equal(f.syscalls - before, 1, 'a single pread');
  f.beginRender();
  before = f.syscalls;
  t.equal(f.read(`${dir}/a`), 'two\n');
  t.equal(f.syscalls - before, 2, 'a file of many records: read until a read gives nothing');
  t.equal(f.read(`${dir}/missing`), undefined);
  t.equal(f.readOnce(`${dir}/missing`), undefined);
  t.equal(f.readOnce(`${dir}/a`), 'two\n');
  t.same(f.subdirs(dir), []);
  t.same(f.subdirs(`${dir}/missing`), []);
  f.close();
  t.equal(f.held, 0);
});

t.test('the /proc files read in one go; a file larger than the buffer in several', async (t) => {
  const f = new DescriptorCache();
  t.match(f.read('/proc/meminfo'), /^MemTotal:/);
  t.match(f.read('/proc/self/status'), /^Name:/m);
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  const big = 'x'.repeat(200 * 1024);
  writeFileSync(`${dir}/big`, big);
  t.equal(f.read(`${dir}/big`), big);
  f.beginRender();
  t.equal(f.read(`${dir}/big`), big, 'again, with the grown buffer');
});

/** A node process stopped once it has started: its /proc/PID files stay as they are. */
async function stoppedNode(t: { teardown(fn: () => void): void }): Promise<number> {
  const child = spawn(process.execPath, ['-e', "process.stdout.write('ready'); setInterval(() => {}, 1e6)"], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.stdout.once('data', resolve));
  child.kill('SIGSTOP');
  const state = () => readFileSync(`/proc/${child.pid}/stat`, 'latin1').replace(/^.*\) /s, '')[0];
  while (state() !== 'T') await new Promise((r) => setTimeout(r, 10));
  return child.pid!;
}

t.test('a kernel file of many records longer than a page is read whole (the kernel gives about a page a read)', async (t) => {
  const pid = await stoppedNode(t);
  const whole = readFileSync(`/proc/${pid}/maps`, 'latin1');
  t.ok(whole.length > 4096, `/proc/${pid}/maps has ${whole.length} bytes`);
  const f = new DescriptorCache();
  t.equal(f.read(`/proc/${pid}/maps`), whole, 'held');
  f.beginRender();
  t.equal(f.read(`/proc/${pid}/maps`), whole, 'held, read again from offset 0');
  t.equal(f.readOnce(`/proc/${pid}/maps`), whole, 'opened and closed');
});

t.test('at capacity the least recently used descriptor is closed', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  const f = new DescriptorCache({ capacity: 2 });
  for (const n of ['a', 'b', 'c']) writeFileSync(`${dir}/${n}`, n);
  f.read(`${dir}/a`, ONE_RECORD);
  f.read(`${dir}/b`, ONE_RECORD);
  f.beginRender();
  f.read(`${dir}/a`, ONE_RECORD);
  f.read(`${dir}/c`, ONE_RECORD);
  t.equal(f.held, 2);
  const before = f.syscalls;
  f.beginRender();
  f.read(`${dir}/a`, ONE_RECORD);
  t.equal(f.syscalls - before, 1, 'a was kept (used last), b was closed');
});

t.test('settings may be reused for maxAgeMs; usage figures never', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(`${dir}/cpu.max`, '50000 100000\n');
  const f = new DescriptorCache();
  t.equal(f.read(`${dir}/cpu.max`, { maxAgeMs: 60_000 }), '50000 100000\n');
  writeFileSync(`${dir}/cpu.max`, 'max 100000\n');
  f.beginRender();
  t.equal(f.read(`${dir}/cpu.max`, { maxAgeMs: 60_000 }), '50000 100000\n', 'within the age: the text read before');
  t.equal(f.read(`${dir}/cpu.max`), 'max 100000\n', 'without an age: read now, in the same render too');
  t.equal(f.read(`${dir}/cpu.max`, { maxAgeMs: 60_000 }), 'max 100000\n', 'then the same render has that text');
  writeFileSync(`${dir}/cpu.max`, '25000 100000\n');
  f.beginRender();
  t.equal(
    f.read(`${dir}/cpu.max`, { maxAgeMs: 60_000 }),
    'max 100000\n',
    'the text a read without an age had, kept for the reads with one',
  );
  f.beginRender();
  t.equal(f.read(`${dir}/cpu.max`), '25000 100000\n', 'without an age: read now');
  f.beginRender();
  t.equal(f.read(`${dir}/cpu.max`, { maxAgeMs: 0 }), '25000 100000\n');
  const g = new DescriptorCache({ reuseSettings: false });
  t.equal(g.read(`${dir}/cpu.max`, { maxAgeMs: 60_000 }), '25000 100000\n');
  writeFileSync(`${dir}/cpu.max`, '1 100000\n');
  g.beginRender();
  t.equal(g.read(`${dir}/cpu.max`, { maxAgeMs: 60_000 }), '1 100000\n', 'reuseSettings off: read every time');
});

t.test('a render with freshSettings reads settings now, and later renders reuse that text', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(`${dir}/memory.max`, 'max\n');
  const f = new DescriptorCache();
  t.equal(f.read(`${dir}/memory.max`, { maxAgeMs: 60_000 }), 'max\n', 'read while the runtime sets the container up');
  writeFileSync(`${dir}/memory.max`, '268435456\n');
  f.beginRender({ freshSettings: true });
  t.equal(f.read(`${dir}/memory.max`, { maxAgeMs: 60_000 }), '268435456\n', 'fresh: the limit written since');
  writeFileSync(`${dir}/memory.max`, '1\n');
  f.beginRender();
  t.equal(f.read(`${dir}/memory.max`, { maxAgeMs: 60_000 }), '268435456\n', 'the next render reuses what the fresh one read');
});
