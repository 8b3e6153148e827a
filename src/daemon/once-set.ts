// "Say it once" across worker threads: a set of message keys in shared memory, claimed with compare-and-swap.
import { hashKey } from '../loadavg/table.js';

export interface Once {
  /** true the first time a key is seen (by any thread sharing the set) */
  first(key: string): boolean;
}

export class OnceSet implements Once {
  private readonly a: Int32Array;

  static create(slots = 16384): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * 4);
  }

  constructor(buffer: SharedArrayBuffer) {
    this.a = new Int32Array(buffer);
  }

  /** When the set is full, nothing more is said (a flood of distinct failures is itself logged once). */
  first(key: string): boolean {
    const h = hashKey(key)[0] || 1;
    const n = this.a.length;
    for (let probe = 0, i = (h >>> 0) % n; probe < n; probe++, i = (i + 1) % n) {
      const seen = Atomics.compareExchange(this.a, i, 0, h);
      if (seen === 0) return true;
      if (seen === h) return false;
    }
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
