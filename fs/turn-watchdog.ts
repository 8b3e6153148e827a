// The poller's watchdog, on the serving process's main thread: a worker that has held one request
// that may take long (a render waiting on the kernel) for a tick or more loses the turn, so another
// worker serves the other readers meanwhile. It ticks only while such requests come: a worker wakes
// it (fs/poller.ts beginBusy), and it sleeps again after a second without one.
import { giveUp, TurnSlot } from './poller.js';

/** How often the watchdog looks, in ms: a request stuck this long (and at most twice this) hands the turn on. */
export const WATCH_TICK_MS = 10;
/** Ticks without a request that may take long before the watchdog sleeps. */
const IDLE_TICKS = 100;

/** Atomics.waitAsync (ES2024, in Node 16+), typed here: the project's lib is ES2022. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, index: number, value: number): { async: false } | { async: true; value: Promise<unknown> };
  }
).waitAsync;

export class TurnWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly seen: number[];
  private ticks = 0;
  /** turns handed on (for tests and logs) */
  handedOn = 0;

  constructor(
    private readonly control: Int32Array,
    private readonly threads: number,
  ) {
    this.seen = new Array<number>(threads).fill(0);
    this.sleep();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Wait (without a timer) until a worker sets WATCH. */
  private sleep(): void {
    if (this.stopped) return;
    const waited = waitAsync(this.control, TurnSlot.WATCH, 0);
    if (!waited.async) return this.wake();
    void waited.value.then(() => this.wake());
  }

  private wake(): void {
    if (this.stopped || this.timer) return;
    this.ticks = 0;
    this.timer = setInterval(() => this.tick(), WATCH_TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    const c = this.control;
    for (let i = 0; i < this.threads; i++) {
      const b = Atomics.load(c, TurnSlot.BUSY + i);
      // the same request in hand as a tick ago: stuck for a tick or more
      if (b !== 0 && b === this.seen[i] && giveUp(c, i)) this.handedOn++;
      this.seen[i] = b;
    }
    // Once a second WATCH goes back to 0, and the next request that may take long sets it again (waking
    // no one): still 0 a second later, none came, and the watchdog sleeps until one does.
    if (++this.ticks % IDLE_TICKS !== 0) return;
    if (Atomics.exchange(c, TurnSlot.WATCH, 0) === 1) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sleep();
  }
}
