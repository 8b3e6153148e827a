// fs/poller.ts: one worker at a time has the turn, it spins on the non-blocking clone and then blocks,
// it gives the turn up only if it still has it, and a drain sends every waiting worker away.
import t from 'tap';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { closeTurns, controlSlots, giveUp, PASS_EVERY, Poller, TurnSlot, type RawCalls } from '../../fs/poller.js';

const { EAGAIN, ENODEV, ENOENT } = constants.errno;

/** A fake clone: `script` says what each read does (bytes read, or an errno to fail with). */
function fakeRaw(script: (number | { errno: number })[]): RawCalls & { reads: number; yields: number } {
  let errno = 0;
  const raw = {
    reads: 0,
    yields: 0,
    read(_fd: number, buf: Buffer, _size: number): number {
      const step = script[Math.min(raw.reads++, script.length - 1)]!;
      if (typeof step === 'number') {
        buf.fill(7, 0, step);
        return step;
      }
      errno = step.errno;
      return -1;
    },
    schedYield: () => (raw.yields++, 0),
    errno: () => errno,
  };
  return raw;
}

/** A file of `bytes` bytes: a read of it returns them at once (the blocking connection, in these tests). */
function fileWith(bytes: number): { fd: number; close(): void } {
  const dir = mkdtempSync('/tmp/tsproc-test-poller-');
  writeFileSync(`${dir}/conn`, Buffer.alloc(bytes, 1));
  const fd = openSync(`${dir}/conn`, 'r');
  return {
    fd,
    close: () => {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const control = (threads = 2) => new Int32Array(new SharedArrayBuffer(4 * controlSlots(threads)));
const never = () => false;

t.test('a request already there on the clone: taken from the clone, with the turn', async (t) => {
  const c = control();
  const raw = fakeRaw([64]);
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 1, raw });
  const taken = p.take(Buffer.alloc(128), never);
  t.same(taken, { length: 64, fd: 9 }, 'the reply goes to the descriptor it came from');
  t.equal(Atomics.load(c, TurnSlot.TURN), 2, 'worker 1 has the turn (index + 1)');
  t.ok(p.holding);
});

t.test('nothing on the clone: it tries for the spin time, yielding the CPU between tries, then blocks on the connection', async (t) => {
  const c = control();
  const raw = fakeRaw([{ errno: EAGAIN }]);
  const conn = fileWith(40);
  t.teardown(conn.close);
  const p = new Poller({ fd: conn.fd, spinFd: 9, control: c, index: 0, raw, spinUs: 2000, preemptedUs: 1e6 });
  const taken = p.take(Buffer.alloc(128), never);
  t.same(taken, { length: 40, fd: conn.fd }, 'read from the connection, answered there');
  t.ok(raw.reads > 1, `tried the clone more than once (${raw.reads})`);
  t.equal(raw.yields, raw.reads - 1, 'yielded between tries');
});

t.test('no clone (spinFd -1): every read blocks on the connection, no spin', async (t) => {
  const conn = fileWith(16);
  t.teardown(conn.close);
  const p = new Poller({ fd: conn.fd, spinFd: -1, control: control(), index: 0, raw: fakeRaw([1]) });
  t.same(p.take(Buffer.alloc(64), never), { length: 16, fd: conn.fd });
});

t.test('an interrupted request (ENOENT) is skipped; another errno ends the take with it, the turn given up', async (t) => {
  const c = control();
  const raw = fakeRaw([{ errno: ENOENT }, 24]);
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 0, raw });
  t.same(p.take(Buffer.alloc(64), never), { length: 24, fd: 9 });
  const dead = new Poller({ fd: -1, spinFd: 9, control: control(), index: 0, raw: fakeRaw([{ errno: ENODEV }]) });
  t.throws(() => dead.take(Buffer.alloc(64), never), { code: 'ENODEV', syscall: 'read' }, 'the worker sees ENODEV: unmounted');
  t.notOk(dead.holding, 'and the turn is free for the next worker, which sees the same and ends');
});

t.test('the turn: given up only by its holder; a drain sends waiting workers away', async (t) => {
  const c = control();
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 0, raw: fakeRaw([8]) });
  p.take(Buffer.alloc(16), never);
  t.notOk(giveUp(c, 1), 'worker 1 cannot give up what worker 0 has');
  t.equal(Atomics.load(c, TurnSlot.TURN), 1);
  p.giveTurn();
  t.equal(Atomics.load(c, TurnSlot.TURN), 0, 'free');
  p.giveTurn();
  t.equal(Atomics.load(c, TurnSlot.TURN), 0, 'giving it up twice changes nothing');
  Atomics.store(c, TurnSlot.TURN, 2); // worker 1 has it
  p.giveTurn();
  t.equal(Atomics.load(c, TurnSlot.TURN), 2, "worker 0 leaves worker 1's turn alone");
  closeTurns(c);
  t.equal(p.take(Buffer.alloc(16), never), undefined, 'after a drain nobody takes the turn');
  Atomics.store(c, TurnSlot.TURN, 0);
  t.equal(
    p.take(Buffer.alloc(16), () => true),
    undefined,
    'a stop asked for ends the take before a read',
  );
});

t.test('a worker waiting for the turn sleeps until the holder gives it up', async (t) => {
  const c = control();
  Atomics.store(c, TurnSlot.TURN, 2); // worker 1 has it
  const { Worker } = await import('node:worker_threads');
  // worker 0 in a thread: it waits on the futex, then takes the turn once worker 1 gives it up
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.url).then(({ Poller }) => {
      const c = new Int32Array(workerData.sab);
      const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 0,
        raw: { read: () => 5, schedYield: () => 0, errno: () => 0 } });
      parentPort.postMessage('waiting');
      const taken = p.take(Buffer.alloc(8), () => false);
      parentPort.postMessage(JSON.stringify({ taken, turn: Atomics.load(c, 2) }));
    });`;
  const w = new Worker(code, { eval: true, workerData: { sab: c.buffer, url: new URL('../../fs/poller.js', import.meta.url).href } });
  const messages: string[] = [];
  const done = new Promise<string>((resolve) => w.on('message', (m: string) => (messages.push(m), m !== 'waiting' && resolve(m))));
  await new Promise<void>((resolve) => w.once('message', () => resolve()));
  await new Promise((r) => setTimeout(r, 100));
  t.same(messages, ['waiting'], 'it has not taken the turn while worker 1 had it');
  t.ok(giveUp(c, 1), 'worker 1 gives it up');
  t.same(JSON.parse(await done), { taken: { length: 5, fd: 9 }, turn: 1 }, 'worker 0 took it and read');
  await w.terminate();
});

t.test('beginBusy marks the request in hand and wakes the watchdog once; endBusy clears it', async (t) => {
  const c = control(3);
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 2, raw: fakeRaw([8]) });
  p.beginBusy();
  const first = Atomics.load(c, TurnSlot.BUSY + 2);
  t.not(first, 0, 'marked');
  t.equal(Atomics.load(c, TurnSlot.WATCH), 1, 'the watchdog is asked to watch');
  p.endBusy();
  t.equal(Atomics.load(c, TurnSlot.BUSY + 2), 0, 'cleared');
  p.beginBusy();
  t.not(Atomics.load(c, TurnSlot.BUSY + 2), first, 'the next request has another number: the watchdog tells them apart');
  t.equal(Atomics.load(c, TurnSlot.BUSY), 0, "worker 0's slot untouched");
});

t.test('every PASS_EVERY requests the turn passes to the next worker (each keeps its compiled code warm); never with one', async (t) => {
  const c = control(3);
  const p = new Poller({ fd: -1, spinFd: 9, control: c, index: 2, threads: 3, raw: fakeRaw([8]) });
  p.take(Buffer.alloc(16), never);
  for (let i = 1; i < PASS_EVERY; i++) p.replied();
  t.equal(Atomics.load(c, TurnSlot.TURN), 3, 'kept until the PASS_EVERY-th reply');
  p.replied();
  t.equal(Atomics.load(c, TurnSlot.TURN), 1, 'then passed to worker 0 (after worker 2, the last)');
  t.notOk(p.holding);
  const next = new Poller({ fd: -1, spinFd: 9, control: c, index: 0, threads: 3, raw: fakeRaw([8]) });
  t.same(next.take(Buffer.alloc(16), never), { length: 8, fd: 9 }, 'worker 0 takes the turn passed to it');
  closeTurns(c);
  for (let i = 0; i < PASS_EVERY; i++) next.replied();
  t.equal(Atomics.load(c, TurnSlot.TURN), -1, 'a closed turn is not passed on');
  const alone = control(1);
  const only = new Poller({ fd: -1, spinFd: 9, control: alone, index: 0, threads: 1, raw: fakeRaw([8]) });
  only.take(Buffer.alloc(16), never);
  for (let i = 0; i < PASS_EVERY * 2; i++) only.replied();
  t.ok(only.holding, 'one worker keeps it');
});

t.test('a try that took long (the poller was not running: a busy machine): it blocks at once, and spins no more for a while', async (t) => {
  const conn = fileWith(100);
  t.teardown(conn.close);
  const raw = fakeRaw([{ errno: EAGAIN }]);
  // each yield lets other threads run for 2 ms, as on a machine with more runnable threads than CPUs
  raw.schedYield = () => {
    const end = process.hrtime.bigint() + 2_000_000n;
    while (process.hrtime.bigint() < end);
    raw.yields++;
    return 0;
  };
  const p = new Poller({ fd: conn.fd, spinFd: 9, control: control(), index: 0, raw, spinUs: 50_000, preemptedUs: 500 });
  t.equal(p.take(Buffer.alloc(16), never)?.fd, conn.fd, 'served from the blocking read');
  t.equal(raw.yields, 1, 'after the first long try it stopped spinning');
  const before = raw.reads;
  p.take(Buffer.alloc(16), never);
  t.equal(raw.reads - before, 1, 'the next take: one try (a request already waiting), then it blocks');
  t.equal(raw.yields, 1, 'no spin');
});
