// The shared load table: one writer, readers in other threads, consistent reads, removal.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { LoadTable, hashKey } from '../../../src/daemon/loadavg/table.js';

const sample = (n: number) => ({
  avg: [n, n + 1, n + 2] as [number, number, number],
  running: n,
  blocked: 0,
  total: n + 5,
  lastPid: n * 10,
});

t.test('insert, find, write, read, remove', async (t) => {
  const tab = new LoadTable(LoadTable.create(8));
  t.equal(tab.find('/a'), -1);
  const a = tab.insert('/a', 100);
  t.equal(tab.insert('/a', 100), a, 'inserting again finds it');
  t.equal(tab.find('/a'), a);
  t.same(tab.read(a), { avg: [0, 0, 0], running: 0, blocked: 0, total: 0, lastPid: 0, samples: 0 }, 'registered, not sampled');
  tab.write(a, sample(3));
  t.same(tab.read(a), { ...sample(3), samples: 1 });
  tab.touch(a, 200);
  t.equal(tab.lastRead(a), 200);
  const b = tab.insert('/b', 100);
  tab.remove(a);
  t.equal(tab.find('/a'), -1);
  t.equal(tab.find('/b'), b, 'found past the removed slot');
  t.equal(tab.read(a), undefined);
});

t.test('filled to three quarters at most', async (t) => {
  const tab = new LoadTable(LoadTable.create(8));
  const slots = ['/1', '/2', '/3', '/4', '/5', '/6'].map((k) => tab.insert(k, 0));
  t.ok(slots.every((s) => s >= 0));
  t.equal(tab.insert('/7', 0), -1);
  tab.remove(slots[0]!);
  t.ok(tab.insert('/7', 0) >= 0, 'room again after a removal');
  t.not(hashKey('/a')[0], hashKey('/b')[0]);
});

t.test('a slot removed and taken by another key: a read for the first key finds it is not its own', async (t) => {
  const tab = new LoadTable(LoadTable.create(8));
  const home = (k: string) => hashKey(k)[0] & 7;
  // A second key whose probe starts at the first's slot: it takes that slot once the first is removed.
  const other = Array.from({ length: 1000 }, (_, i) => `/k${i}`).find((k) => home(k) === home('/a'))!;
  const a = tab.insert('/a', 0);
  tab.write(a, sample(3));
  tab.remove(a);
  t.equal(tab.insert(other, 0), a, 'the same slot');
  tab.write(a, sample(7));
  t.equal(tab.read(a, '/a'), undefined, "a worker that found /a there does not get the other's figures");
  t.same(tab.read(a, other), { ...sample(7), samples: 1 }, 'the new key reads its own, counted from 0 again');
});

t.test('a reader in another thread never sees a torn slot', async (t) => {
  const buf = LoadTable.create(16);
  const tab = new LoadTable(buf);
  const slot = tab.insert('/busy', 0);
  tab.write(slot, sample(0));
  const url = new URL('../../../src/daemon/loadavg/table.js', import.meta.url).href;
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.url).then(({ LoadTable }) => {
      const tab = new LoadTable(workerData.buf);
      let bad = 0, seen = 0;
      const end = Date.now() + 300;
      while (Date.now() < end) {
        const s = tab.read(workerData.slot);
        if (!s) continue;
        seen++;
        if (s.avg[1] !== s.avg[0] + 1 || s.total !== s.running + 5 || s.lastPid !== s.running * 10) bad++;
      }
      parentPort.postMessage({ bad, seen });
    });`;
  const w = new Worker(code, { eval: true, workerData: { buf, slot, url } });
  const result = new Promise<{ bad: number; seen: number }>((r) => w.once('message', r));
  let n = 0;
  const end = Date.now() + 300;
  while (Date.now() < end) tab.write(slot, sample(++n % 1000));
  const { bad, seen } = await result;
  await w.terminate();
  t.equal(bad, 0, `${seen} reads while ${n} writes went on`);
});
