// fs/turn-watchdog.ts: a poller that holds one request that may take long for a tick loses the turn; one
// that moves on keeps it; with no such request for a second the watchdog stops ticking until one comes.
import t from 'tap';
import { controlSlots, Poller, TurnSlot } from '../../fs/poller.js';
import { TurnWatchdog, WATCH_TICK_MS } from '../../fs/turn-watchdog.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const control = (threads: number) => new Int32Array(new SharedArrayBuffer(4 * controlSlots(threads)));
const raw = { read: () => 8, schedYield: () => 0, errno: () => 0 };

t.test('stuck in one request for a tick: the turn is handed on; a new request each tick keeps it', async (t) => {
  const c = control(2);
  const dog = new TurnWatchdog(c, 2);
  t.teardown(() => dog.stop());
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 1, raw });
  p.take(Buffer.alloc(8), () => false);
  // requests that end and begin again: never the same one at two ticks
  for (let i = 0; i < 8; i++) {
    p.endBusy();
    p.beginBusy();
    await sleep(WATCH_TICK_MS / 2);
  }
  t.ok(p.holding, 'requests that move on keep the turn');
  t.equal(dog.handedOn, 0);
  // now one request that lasts
  await sleep(WATCH_TICK_MS * 4);
  t.notOk(p.holding, 'a request held for ticks loses the turn');
  t.equal(Atomics.load(c, TurnSlot.TURN), 0, 'free for a waiting worker');
  t.equal(dog.handedOn, 1);
  p.endBusy();
});

t.test('idle for a second: WATCH goes back to 0 and the watchdog sleeps; a busy request wakes it', async (t) => {
  const c = control(1);
  const dog = new TurnWatchdog(c, 1);
  t.teardown(() => dog.stop());
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 0, raw });
  p.take(Buffer.alloc(8), () => false);
  p.beginBusy();
  p.endBusy();
  t.equal(Atomics.load(c, TurnSlot.WATCH), 1, 'asked to watch');
  await sleep(WATCH_TICK_MS * 250);
  t.equal(Atomics.load(c, TurnSlot.WATCH), 0, 'nothing came for a second: it stopped watching');
  // asleep: a stuck request is seen only after a worker wakes it
  p.beginBusy();
  await sleep(WATCH_TICK_MS * 6);
  t.notOk(p.holding, 'woken by beginBusy, it handed the stuck turn on');
  t.equal(dog.handedOn, 1);
});
