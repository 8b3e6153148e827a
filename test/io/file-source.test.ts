// Reading files by pread on held descriptors: fresh contents, memo within a render, absent files, big files.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { DescriptorCache } from '../../src/io/file-source.js';

t.test('held descriptors are read again from offset 0; one syscall a read', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(`${dir}/a`, 'one\n');
  const f = new DescriptorCache();
  t.equal(f.read(`${dir}/a`), 'one\n');
  t.equal(f.held, 1);
  writeFileSync(`${dir}/a`, 'two\n');
  t.equal(f.read(`${dir}/a`), 'one\n', 'the same render: read once');
  f.beginRender();
  const before = f.syscalls;
  t.equal(f.read(`${dir}/a`), 'two\n', 'a new render: read afresh');
  t.equal(f.syscalls - before, 1, 'a single pread');
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

t.test('at capacity the least recently used descriptor is closed', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  const f = new DescriptorCache({ capacity: 2 });
  for (const n of ['a', 'b', 'c']) writeFileSync(`${dir}/${n}`, n);
  f.read(`${dir}/a`);
  f.read(`${dir}/b`);
  f.beginRender();
  f.read(`${dir}/a`);
  f.read(`${dir}/c`);
  t.equal(f.held, 2);
  const before = f.syscalls;
  f.beginRender();
  f.read(`${dir}/a`);
  t.equal(f.syscalls - before, 1, 'a was kept (used last), b was closed');
});

t.test('settings may be reused for maxAgeMs; usage figures never', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-io-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(`${dir}/cpu.max`, '50000 100000\n');
  const f = new DescriptorCache();
  t.equal(f.read(`${dir}/cpu.max`, 60_000), '50000 100000\n');
  writeFileSync(`${dir}/cpu.max`, 'max 100000\n');
  f.beginRender();
  t.equal(f.read(`${dir}/cpu.max`, 60_000), '50000 100000\n', 'within the age: the text read before');
  t.equal(f.read(`${dir}/cpu.max`), '50000 100000\n', 'the same render: the same text');
  f.beginRender();
  t.equal(f.read(`${dir}/cpu.max`), 'max 100000\n', 'without an age: read now');
  f.beginRender();
  t.equal(f.read(`${dir}/cpu.max`, 0), 'max 100000\n');
  const g = new DescriptorCache({ reuseSettings: false });
  t.equal(g.read(`${dir}/cpu.max`, 60_000), 'max 100000\n');
  writeFileSync(`${dir}/cpu.max`, '1 100000\n');
  g.beginRender();
  t.equal(g.read(`${dir}/cpu.max`, 60_000), '1 100000\n', 'reuseSettings off: read every time');
});
