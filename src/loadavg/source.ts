// The workers' side of the load figures: the sampler's shared table, or a count on the spot when it has none yet.
import type { CgroupPaths } from '../cgroup/driver.js';
import type { Reader } from '../reader/resolver.js';
import type { LoadSample } from '../views/view.js';
import type { RegisterMessage } from './sampler.js';
import { nowSeconds } from './sampler.js';
import { LoadTable } from './table.js';
import type { TaskCounts } from './tasks.js';

/** The table key of a container: the cgroup whose threads are counted. */
export const loadKey = (cg: CgroupPaths): string => cg.cpu;

export interface LoadSourceOptions {
  /** the sampler's table; none with --no-loadavg */
  table?: SharedArrayBuffer;
  /** tells the sampler about a container it does not track yet */
  post: (m: RegisterMessage) => void;
  /** counts a container's tasks now; `tid` is the reading thread */
  count: (reader: Reader, tid: number) => TaskCounts;
  now?: () => number;
}

export class LoadSource {
  private readonly table: LoadTable | undefined;
  private readonly posted = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: LoadSourceOptions) {
    this.table = o.table ? new LoadTable(o.table) : undefined;
    this.now = o.now ?? nowSeconds;
  }

  /** `tid`: the thread reading (it counts as running). */
  sample(reader: Reader, tid: number): LoadSample {
    if (this.table) {
      const key = loadKey(reader.cgroup);
      const slot = this.table.find(key);
      if (slot >= 0) {
        this.table.touch(slot, this.now());
        const s = this.table.read(slot);
        if (s && s.samples > 0) return s;
      } else this.register(key, reader.cgroup, tid);
    }
    // Not sampled yet (the first read of a new container) or no sampler: count now; averages start at 0.
    return { avg: [0, 0, 0], ...this.o.count(reader, tid) };
  }

  private register(key: string, cgroup: CgroupPaths, tid: number): void {
    const now = this.now();
    if ((this.posted.get(key) ?? -Infinity) > now - 2) return;
    if (this.posted.size > 4096) this.posted.clear();
    this.posted.set(key, now);
    this.o.post({ type: 'loadavg-register', key, cgroup, reader: tid });
  }
}
