// The log-once set shared by the worker threads: a key said once, a full set said once and never walked whole.
import t from 'tap';
import { OnceSet } from '../../src/daemon/once-set.js';
import { hashKey } from '../../src/daemon/loadavg/table.js';

t.test('a key is new once, in any thread sharing the set', async (t) => {
  const buf = OnceSet.create(64);
  const a = new OnceSet(buf);
  const b = new OnceSet(buf);
  t.equal(a.first('meminfo for ns:1'), true);
  t.equal(a.first('meminfo for ns:1'), false);
  t.equal(b.first('meminfo for ns:1'), false, 'another thread on the same memory');
  t.equal(b.first('stat for ns:1'), true);
});

t.test('a full set: new keys are not said, and that is said once, by one thread', async (t) => {
  const buf = OnceSet.create(9);
  let full = 0;
  const a = new OnceSet(buf, () => full++);
  const b = new OnceSet(buf, () => full++);
  const said = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).first(`key ${i}`)).filter(Boolean).length;
  t.equal(said, 8, 'eight slots (the ninth is the flag)');
  t.equal(full, 1, 'the set being full is said once');
  t.equal(a.first('key 0'), false, 'a key said before is still known');
});

t.test('a lookup looks at a few slots, never the whole set', async (t) => {
  const buf = OnceSet.create(16384);
  let full = 0;
  const a = new OnceSet(buf, () => full++);
  // Every slot taken but one, 40 slots past where the key's probe starts: a walk of the set would take it.
  const slots = new Int32Array(buf);
  slots.fill(7, 1);
  const home = (hashKey('k')[0]! >>> 0) % (slots.length - 1);
  slots[1 + ((home + 40) % (slots.length - 1))] = 0;
  t.equal(a.first('k'), false, 'not found within its probes: the set counts as full');
  t.equal(full, 1);
});
