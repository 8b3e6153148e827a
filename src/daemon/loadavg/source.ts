// The workers' side of the load figures: the sampler's shared table, or a count on the spot when it has none yet.
import type { Reader } from '../reader/resolver.js';
import { loadKey, type ThreadsDriver } from './key.js';
import type { LoadSample } from './table.js';
import type { RegisterMessage } from './sampler.js';
import { nowSeconds } from './sampler.js';
import { LoadTable } from './table.js';
import type { TaskCounts } from './tasks.js';

export interface LoadSourceOptions {
  /** which cgroup's threads are counted (the table's key) */
  driver: ThreadsDriver;
  /** the sampler's table; none with --no-loadavg */
  table?: SharedArrayBuffer;
  /** tells the sampler about a container it does not track yet */
  post: (m: RegisterMessage) => void;
  /** counts a container's tasks now; `tid` is the reading thread */
  count: (reader: Reader, tid: number) => TaskCounts;
  /** seconds, as the sampler's table stamps reads */
  now?: () => number;
  /** milliseconds, monotonic: how old a count on the spot is */
  clock?: () => number;
}

/**
 * A count on the spot walks every task of the container (some 13 ms of CPU for 1200 tasks): it is
 * kept this long (ms), so that a container read often without a sampler (--no-loadavg) pays it
 * once a second at most.
 */
export const COUNT_TTL_MS = 1000;

export class LoadSource {
  private readonly table: LoadTable | undefined;
  private readonly posted = new Map<string, number>();
  private readonly counted = new Map<string, { at: number; counts: TaskCounts }>();
  private readonly now: () => number;
  private readonly clock: () => number;

  constructor(private readonly o: LoadSourceOptions) {
    this.table = o.table ? new LoadTable(o.table) : undefined;
    this.now = o.now ?? nowSeconds;
    this.clock = o.clock ?? (() => performance.now());
  }

  /** `tid`: the thread reading (it counts as running). */
  sample(reader: Reader, tid: number): LoadSample {
    const key = loadKey(this.o.driver, reader.cgroup);
    if (this.table) {
      const slot = this.table.find(key);
      if (slot >= 0) {
        // Read first: the slot may have been taken for another container since it was found.
        const s = this.table.read(slot, key);
        if (s) this.table.touch(slot, this.now());
        if (s && s.samples > 0) return withReader(s);
      } else this.register(key, reader, tid);
    }
    // Not sampled yet (the first read of a new container) or no sampler: count now; averages start at 0.
    return withReader({ avg: [0, 0, 0], ...this.countNow(key, reader, tid) });
  }

  /** A count of the container's tasks at most COUNT_TTL_MS old. */
  private countNow(key: string, reader: Reader, tid: number): TaskCounts {
    const now = this.clock();
    const kept = this.counted.get(key);
    if (kept && now - kept.at < COUNT_TTL_MS) return kept.counts;
    const counts = this.o.count(reader, tid);
    if (this.counted.size >= 4096) this.counted.clear();
    this.counted.set(key, { at: now, counts });
    return counts;
  }

  private register(key: string, reader: Reader, tid: number): void {
    const now = this.now();
    if ((this.posted.get(key) ?? -Infinity) > now - 2) return;
    if (this.posted.size > 4096) this.posted.clear();
    this.posted.set(key, now);
    this.o.post({ type: 'loadavg-register', key, cgroup: reader.cgroup, reader: tid, depth: reader.depth });
  }
}

/**
 * Counts leave readers out (one waiting for tsproc's answer sleeps in S or D): the reader, which runs
 * now as a reader of the kernel's file does, is added as running.
 */
function withReader(s: LoadSample): LoadSample {
  return { avg: s.avg, running: s.running + 1, blocked: s.blocked, total: s.total, lastPid: s.lastPid };
}
