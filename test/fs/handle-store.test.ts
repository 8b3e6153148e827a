// Shared snapshot store: allocation, size classes, exhaustion, stale handles, sharing across threads.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { HandleStore } from '../../fs/tree/handle-store.js';

t.test('open, store, load, release', async (t) => {
  const s = new HandleStore(
    HandleStore.create(4, [
      { size: 16, count: 2 },
      { size: 64, count: 1 },
    ]),
  );
  const fh = s.open();
  t.not(fh, 0n);
  t.equal(s.load(fh), undefined, 'no snapshot before the first render');
  t.ok(s.store(fh, Buffer.from('hello')));
  t.equal(s.load(fh)!.toString(), 'hello');
  t.ok(s.store(fh, Buffer.from('a longer text of 40 bytes, quite a lot!!')), 'grows into a bigger class');
  t.equal(s.load(fh)!.toString(), 'a longer text of 40 bytes, quite a lot!!');
  t.same(s.usage(), { handles: 1, blocks: [0, 1] }, 'the small block was given back');
  t.notOk(s.store(fh, Buffer.alloc(100)), 'larger than every class');
  t.equal(s.load(fh), undefined);
  s.release(fh);
  t.same(s.usage(), { handles: 0, blocks: [0, 0] });
  t.equal(s.load(fh), undefined, 'released');
  t.notOk(s.store(fh, Buffer.from('x')), 'stale handle');
});

t.test('a snapshot stored fresh (at open) is taken once; the handle works as before', async (t) => {
  const s = new HandleStore(HandleStore.create(4, [{ size: 16, count: 2 }]));
  const fh = s.open();
  t.notOk(s.takeFresh(fh), 'nothing fresh before a store');
  t.ok(s.store(fh, Buffer.from('at open'), true));
  t.ok(s.takeFresh(fh), 'the first read takes it');
  t.notOk(s.takeFresh(fh), 'only once');
  t.equal(s.load(fh)!.toString(), 'at open', 'still the snapshot for later offsets');
  t.ok(s.store(fh, Buffer.from('again')));
  t.notOk(s.takeFresh(fh), 'a store at a read is not fresh');
  t.ok(s.store(fh, Buffer.from('x'), true));
  s.release(fh);
  t.notOk(s.takeFresh(fh), 'released');
  t.same(s.usage(), { handles: 0, blocks: [0] });
});

t.test('blocks are reused lowest first: a daemon with few files open at a time writes few of its pages', async (t) => {
  // One class of 8 blocks of 16 bytes, the last bytes of the shared memory. Shared memory is committed
  // page by page as it is first written, and never given back: a block never written costs nothing.
  const shared = HandleStore.create(16, [{ size: 16, count: 8 }]);
  const s = new HandleStore(shared);
  const data = new Uint8Array(shared.sab, shared.sab.byteLength - 8 * 16);
  let stored = 0;
  for (let i = 0; i < 1000; i++) {
    // two files open at once, as two readers would have, then both closed
    const a = s.open();
    const b = s.open();
    if (s.store(a, Buffer.alloc(16, 0xaa)) && s.store(b, Buffer.alloc(16, 0xbb))) stored++;
    s.release(a);
    s.release(b);
  }
  t.equal(stored, 1000, 'every snapshot was kept');
  t.ok(
    data.subarray(0, 32).every((x) => x !== 0),
    'the first two blocks were written',
  );
  t.ok(
    data.subarray(32).every((x) => x === 0),
    'the other six never were, after 1000 rounds',
  );
});

t.test('a reused slot does not answer for the old handle', async (t) => {
  const s = new HandleStore(HandleStore.create(1, [{ size: 16, count: 1 }]));
  const a = s.open();
  s.release(a);
  const b = s.open();
  t.not(a, b, 'new generation');
  s.store(b, Buffer.from('b'));
  t.equal(s.load(a), undefined);
  t.equal(s.load(b)!.toString(), 'b');
});

t.test('exhaustion: no handle gives 0n; no block leaves the handle without snapshot', async (t) => {
  const s = new HandleStore(HandleStore.create(2, [{ size: 16, count: 1 }]));
  const a = s.open();
  const b = s.open();
  t.equal(s.open(), 0n);
  t.ok(s.store(a, Buffer.from('a')));
  t.notOk(s.store(b, Buffer.from('b')));
  t.notOk(s.store(0n, Buffer.from('z')));
  t.equal(s.load(0n), undefined);
  t.equal(s.load(123456789n), undefined, 'out of range');
});

t.test('a snapshot stored in one thread is read in another', async (t) => {
  const shared = HandleStore.create(16);
  const s = new HandleStore(shared);
  const fh = s.open();
  s.store(fh, Buffer.from('from the main thread'));
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.url).then(({ HandleStore }) => {
      const s = new HandleStore(workerData.shared);
      const seen = s.load(workerData.fh).toString();
      s.store(workerData.fh, Buffer.from('from the worker'));
      parentPort.postMessage(seen);
    });`;
  const url = new URL('../../fs/tree/handle-store.js', import.meta.url).href;
  const seen = await new Promise<string>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { shared, fh, url } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  t.equal(seen, 'from the main thread');
  t.equal(s.load(fh)!.toString(), 'from the worker');
});

t.test("the opener index: a thread's last open of a node, found while the handle lives, missed after", async (t) => {
  const s = new HandleStore(HandleStore.create(8, [{ size: 16, count: 4 }]));
  const a = s.open();
  s.store(a, Buffer.from('aaaa'), true);
  s.noteOpener(a, 100, 5);
  const b = s.open();
  s.store(b, Buffer.from('bbbbbbbb'), true);
  s.noteOpener(b, 100, 6);
  t.equal(s.openedBy(100, 5)?.toString(), 'aaaa', 'thread 100, node 5');
  t.equal(s.openedBy(100, 6)?.toString(), 'bbbbbbbb', 'thread 100, node 6');
  t.equal(s.openedBy(101, 5), undefined, 'another thread: not found');
  const c = s.open();
  s.store(c, Buffer.from('cc'), true);
  s.noteOpener(c, 100, 5);
  t.equal(s.openedBy(100, 5)?.toString(), 'cc', 'the latest open wins');
  s.release(c);
  t.equal(s.openedBy(100, 5), undefined, 'a released handle is not found (its generation moved on)');
});
