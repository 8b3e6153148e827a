// "Say it once" across worker threads: a set of message keys in shared memory, claimed with compare-and-swap.
import { hashKey } from './loadavg/table.js';

export interface Once {
  /** true the first time a key is seen (by any thread sharing the set) */
  first(key: string): boolean;
}

/** Slots looked at for one key: past them the set counts as full (a lookup never walks the whole set). */
const PROBES = 32;

export class OnceSet implements Once {
  private readonly a: Int32Array;

  static create(slots = 16384): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * 4);
  }

  /**
   * Slot 0 is the "full" flag; the others hold key hashes. `onFull` is called once, by the first thread
   * to find the set full: from then on new keys are not said, and that is said.
   */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly onFull?: () => void,
  ) {
    this.a = new Int32Array(buffer);
  }

  first(key: string): boolean {
    const h = hashKey(key)[0] || 1;
    const n = this.a.length - 1;
    for (let probe = 0, i = (h >>> 0) % n; probe < Math.min(PROBES, n); probe++, i = (i + 1) % n) {
      const seen = Atomics.compareExchange(this.a, i + 1, 0, h);
      if (seen === 0) return true;
      if (seen === h) return false;
    }
    if (Atomics.compareExchange(this.a, 0, 0, 1) === 0) this.onFull?.();
    return false;
  }
}

/** The same within one thread (unit tests, a single worker). */
export class LocalOnce implements Once {
  private readonly seen = new Set<string>();

  first(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}
