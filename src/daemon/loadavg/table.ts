// Per-container load figures in shared memory: the sampler (main thread) writes, every worker reads.

/** Running, blocked and total tasks of a container, and its load averages when the sampler has them. */
export interface LoadSample {
  /** fixed-point load averages (FIXED_1 = 2048) over 1, 5 and 15 minutes */
  avg: [number, number, number];
  running: number;
  blocked: number;
  total: number;
  /** the pid of the newest task, as the container's pid namespace numbers it */
  lastPid: number;
}

/**
 * Layout: `capacity` slots of 16 int32s, open addressing on a 64-bit hash of the key (the cgroup
 * path). Only the sampler inserts, writes figures and removes (single writer); workers look slots up,
 * read them under a sequence counter (retrying a torn read) and stamp the time of their last read, from
 * which the sampler drops containers nobody reads any more. A slot removed may be taken for another key
 * between a worker's find and its read: a read names its key, and the slot's key hash is checked under
 * the same sequence counter, which keeps counting across reuse (never back to a value a reader saw).
 */
const SLOT = 16;
const F = {
  state: 0,
  hashLo: 1,
  hashHi: 2,
  seq: 3,
  avg1: 4,
  avg5: 5,
  avg15: 6,
  running: 7,
  blocked: 8,
  total: 9,
  lastPid: 10,
  samples: 11,
  lastRead: 12,
} as const;
const EMPTY = 0;
const ACTIVE = 1;
const REMOVED = 2;

/** Two FNV-1a variants over the key's UTF-16 units: a 64-bit key hash, collisions negligible. */
export function hashKey(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return [a | 0, b | 0];
}

export interface TableSample extends LoadSample {
  /** samples taken so far (0: registered, not sampled yet) */
  samples: number;
}

export class LoadTable {
  private readonly a: Int32Array;
  readonly capacity: number;
  /** slots in use, as the writer counts them */
  private used = 0;

  /** A table for `capacity` containers (a power of two; filled to three quarters at most). */
  static create(capacity = 8192): SharedArrayBuffer {
    if (capacity & (capacity - 1)) throw new Error('capacity must be a power of two');
    return new SharedArrayBuffer(capacity * SLOT * 4);
  }

  constructor(buffer: SharedArrayBuffer) {
    this.a = new Int32Array(buffer);
    this.capacity = this.a.length / SLOT;
  }

  /** The slot of a key, or -1. */
  find(key: string): number {
    const [lo, hi] = hashKey(key);
    const mask = this.capacity - 1;
    for (let n = 0, i = lo & mask; n < this.capacity; n++, i = (i + 1) & mask) {
      const base = i * SLOT;
      const state = Atomics.load(this.a, base + F.state);
      if (state === EMPTY) return -1;
      if (state === ACTIVE && this.a[base + F.hashLo] === lo && this.a[base + F.hashHi] === hi) return i;
    }
    return -1;
  }

  /** A consistent copy of a slot's figures; undefined if the slot does not hold `key` (when given) any more. */
  read(slot: number, key?: string): TableSample | undefined {
    const base = slot * SLOT;
    const [lo, hi] = key === undefined ? [0, 0] : hashKey(key);
    for (let tries = 0; tries < 8; tries++) {
      const seq = Atomics.load(this.a, base + F.seq);
      if (seq & 1) continue;
      const s: TableSample = {
        avg: [this.a[base + F.avg1]!, this.a[base + F.avg5]!, this.a[base + F.avg15]!],
        running: this.a[base + F.running]!,
        blocked: this.a[base + F.blocked]!,
        total: this.a[base + F.total]!,
        lastPid: this.a[base + F.lastPid]!,
        samples: this.a[base + F.samples]!,
      };
      const mine = key === undefined || (this.a[base + F.hashLo] === lo && this.a[base + F.hashHi] === hi);
      if (Atomics.load(this.a, base + F.seq) !== seq) continue;
      if (Atomics.load(this.a, base + F.state) !== ACTIVE || !mine) return undefined;
      return s;
    }
    return undefined;
  }

  /** A worker read the slot at `now` (seconds). */
  touch(slot: number, now: number): void {
    Atomics.store(this.a, slot * SLOT + F.lastRead, now);
  }

  lastRead(slot: number): number {
    return Atomics.load(this.a, slot * SLOT + F.lastRead);
  }

  /** Sampler only: the slot for a key, new or existing; -1 when the table is three quarters full. */
  insert(key: string, now: number): number {
    const found = this.find(key);
    if (found >= 0) return found;
    if (this.used >= (this.capacity * 3) / 4) return -1;
    const [lo, hi] = hashKey(key);
    const mask = this.capacity - 1;
    for (let n = 0, i = lo & mask; n < this.capacity; n++, i = (i + 1) & mask) {
      const base = i * SLOT;
      if (Atomics.load(this.a, base + F.state) === ACTIVE) continue;
      // A removed slot is reused under its sequence counter (odd while the slot changes hands).
      Atomics.add(this.a, base + F.seq, 1);
      this.a.fill(0, base + F.avg1, base + SLOT);
      this.a[base + F.hashLo] = lo;
      this.a[base + F.hashHi] = hi;
      this.a[base + F.lastRead] = now;
      Atomics.add(this.a, base + F.seq, 1);
      Atomics.store(this.a, base + F.state, ACTIVE);
      this.used++;
      return i;
    }
    return -1;
  }

  /** Sampler only: new figures for a slot. */
  write(slot: number, s: LoadSample): void {
    const base = slot * SLOT;
    Atomics.add(this.a, base + F.seq, 1);
    this.a[base + F.avg1] = s.avg[0];
    this.a[base + F.avg5] = s.avg[1];
    this.a[base + F.avg15] = s.avg[2];
    this.a[base + F.running] = s.running;
    this.a[base + F.blocked] = s.blocked;
    this.a[base + F.total] = s.total;
    this.a[base + F.lastPid] = s.lastPid;
    this.a[base + F.samples] = Math.min(this.a[base + F.samples]! + 1, 0x7fffffff);
    Atomics.add(this.a, base + F.seq, 1);
  }

  /** Sampler only: figures taken over from another daemon, sample count and last read included. */
  restore(slot: number, s: TableSample, lastRead: number): void {
    this.write(slot, s);
    const base = slot * SLOT;
    Atomics.add(this.a, base + F.seq, 1);
    this.a[base + F.samples] = s.samples;
    Atomics.add(this.a, base + F.seq, 1);
    Atomics.store(this.a, base + F.lastRead, lastRead);
  }

  /** Sampler only: forget a slot (a tombstone, so that lookups probing past it still find later keys). */
  remove(slot: number): void {
    if (Atomics.load(this.a, slot * SLOT + F.state) !== ACTIVE) return;
    Atomics.store(this.a, slot * SLOT + F.state, REMOVED);
    this.used--;
  }

  /** Slots in use. */
  active(): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) if (Atomics.load(this.a, i * SLOT + F.state) === ACTIVE) n++;
    return n;
  }
}
