// Which worker reads /dev/fuse, and how: one worker at a time has the turn (the "poller"); after each
// reply it tries a non-blocking read for SPIN_US before it sleeps in read(2), so a reader's next request
// (a read(2) follows its open(2) within microseconds) finds it awake. The others wait on a futex, out
// of the kernel's queue, until the turn is given up: before work that may take long (a reader not seen
// before), or taken by the watchdog (fs/turn-watchdog.ts) from a poller stuck in one request.
// docs/decisions.md, "One poller at a time, awake for 50 us after each reply".
import { readSync } from 'node:fs';
import { constants } from 'node:os';
import { errnoError, libc } from '../src/libc.js';

/** The slots of the workers' shared control array (an Int32Array) this module and the watchdog use. */
export const TurnSlot = {
  /** 0: nobody has the turn; i + 1: worker i; CLOSED: draining, nobody takes it again */
  TURN: 2,
  /** 1 while the watchdog watches (fs/turn-watchdog.ts); a worker sets it, and wakes the watchdog, when it is 0 */
  WATCH: 3,
  /** BUSY + i: worker i's request in hand that may take long, a number that changes with each; 0 for none */
  BUSY: 4,
} as const;

/** Int32 slots a control array needs for `threads` workers (the first two are fs/server.ts's). */
export const controlSlots = (threads: number): number => TurnSlot.BUSY + threads;

/** TURN's value once the workers drain. */
const CLOSED = -1;

/**
 * Requests a poller serves before it passes the turn to the next worker: each worker runs every path
 * often enough to keep V8's compiled code for it (a worker that served nothing for a while answers
 * its first requests from unoptimized code, some ms each), for one futex wake per this many requests.
 */
export const PASS_EVERY = 1024;

/** How long the poller keeps trying after a reply before it sleeps in read(2), in microseconds. */
export const SPIN_US = 50;

/**
 * A try that took this long (ns; a read and a sched_yield take a few us) means the poller was not
 * running: the machine has more runnable threads than CPUs. A spinning thread then waits in the run
 * queue when its request comes, where a thread asleep in read(2) would be woken ahead of others; so
 * for BUSY_MACHINE_NS after it the poller makes one try and then blocks.
 */
const PREEMPTED_NS = 30_000n;
const BUSY_MACHINE_NS = 250_000_000n;

const { EAGAIN, EINTR, ENOENT } = constants.errno;

/** A request read: its length and the descriptor it came from, which its reply must go to. */
export interface Taken {
  length: number;
  fd: number;
}

export interface PollerOptions {
  /** the connection's descriptor (blocking) */
  fd: number;
  /** a non-blocking clone of it (fs/clone.ts), or -1: no spin, every read blocks */
  spinFd: number;
  control: Int32Array;
  index: number;
  /** how many workers there are: the turn passes to the next every PASS_EVERY requests */
  threads?: number;
  spinUs?: number;
  /** a try longer than this (us) means the machine is busy (PREEMPTED_NS); tests give their own */
  preemptedUs?: number;
  /** read(2) returning -1 and errno rather than throwing (a spin makes thousands of tries); tests give their own */
  raw?: RawCalls;
}

/** The calls a spin makes, each returning -1 and errno rather than throwing. */
export interface RawCalls {
  read(fd: number, buf: Buffer, size: number): number;
  schedYield(): number;
  errno(): number;
}

export class Poller {
  private readonly me: number;
  private readonly spinNs: bigint;
  private readonly preemptedNs: bigint;
  private readonly raw: PollerOptions['raw'];
  private busy = 0;
  private served = 0;
  /** hrtime before which the poller does not spin (the machine was busy) */
  private spinAfter = 0n;

  constructor(private readonly o: PollerOptions) {
    this.me = o.index + 1;
    this.spinNs = BigInt(Math.round((o.spinUs ?? SPIN_US) * 1000));
    this.preemptedNs = o.preemptedUs === undefined ? PREEMPTED_NS : BigInt(Math.round(o.preemptedUs * 1000));
    this.raw = o.spinFd < 0 ? undefined : (o.raw ?? libc());
  }

  /** Does this worker have the turn? */
  get holding(): boolean {
    return Atomics.load(this.o.control, TurnSlot.TURN) === this.me;
  }

  /**
   * The next request into `buf`, once this worker has the turn; undefined when `stop()` says so. Throws
   * what read(2) throws (ENODEV: the connection is gone), the turn given up first.
   */
  take(buf: Buffer, stop: () => boolean): Taken | undefined {
    const c = this.o.control;
    for (;;) {
      if (stop()) return undefined;
      const was = Atomics.compareExchange(c, TurnSlot.TURN, 0, this.me);
      if (was === 0 || was === this.me) break;
      if (was === CLOSED) return undefined;
      Atomics.wait(c, TurnSlot.TURN, was);
    }
    try {
      if (this.raw) {
        let now = process.hrtime.bigint();
        // after a busy spell, one try (a request already waiting), then read(2) blocks
        const until = now < this.spinAfter ? now : now + this.spinNs;
        for (;;) {
          const n = this.raw.read(this.o.spinFd, buf, buf.length);
          if (n >= 0) return { length: n, fd: this.o.spinFd };
          const errno = this.raw.errno();
          // ENOENT: a request interrupted before it was read; anything but that or "nothing yet" ends the worker
          if (errno !== EAGAIN && errno !== EINTR && errno !== ENOENT) throw errnoError(errno, 'read', '/dev/fuse');
          if (now >= until) break;
          // a thread waiting for this CPU (the reader whose request is next) runs first
          this.raw.schedYield();
          const then = now;
          now = process.hrtime.bigint();
          if (now - then > this.preemptedNs) {
            this.spinAfter = now + BUSY_MACHINE_NS;
            break;
          }
        }
      }
      return { length: readSync(this.o.fd, buf, 0, buf.length, null), fd: this.o.fd };
    } catch (err) {
      this.giveTurn();
      throw err;
    }
  }

  /** Work that may take long starts (a render): the watchdog may hand the turn on if it does. */
  beginBusy(): void {
    const c = this.o.control;
    this.busy = (this.busy % 0x3fffffff) + 1;
    Atomics.store(c, TurnSlot.BUSY + this.o.index, this.busy);
    if (Atomics.load(c, TurnSlot.WATCH) === 0 && Atomics.compareExchange(c, TurnSlot.WATCH, 0, 1) === 0) Atomics.notify(c, TurnSlot.WATCH);
  }

  endBusy(): void {
    Atomics.store(this.o.control, TurnSlot.BUSY + this.o.index, 0);
  }

  /** After a reply: every PASS_EVERY requests the turn goes to the next worker, which waits for it. */
  replied(): void {
    const threads = this.o.threads ?? 1;
    if (threads < 2 || ++this.served % PASS_EVERY !== 0) return;
    const c = this.o.control;
    const next = ((this.o.index + 1) % threads) + 1;
    // only from this worker's turn (not a closed one); every waiter wakes, and the one named keeps it
    if (Atomics.compareExchange(c, TurnSlot.TURN, this.me, next) === this.me) Atomics.notify(c, TurnSlot.TURN);
  }

  /** Give the turn up (if this worker still has it): another worker polls meanwhile. */
  giveTurn(): void {
    giveUp(this.o.control, this.o.index);
  }
}

/** Worker `index` gives up the turn if it has it, and one waiting worker takes it. */
export function giveUp(control: Int32Array, index: number): boolean {
  if (Atomics.compareExchange(control, TurnSlot.TURN, index + 1, 0) !== index + 1) return false;
  Atomics.notify(control, TurnSlot.TURN, 1);
  return true;
}

/** A drain: nobody takes the turn again, and every worker waiting for it wakes and ends. */
export function closeTurns(control: Int32Array): void {
  Atomics.store(control, TurnSlot.TURN, CLOSED);
  Atomics.notify(control, TurnSlot.TURN);
}
