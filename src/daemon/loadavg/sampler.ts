// The load sampler, on the daemon's main thread: every 5 s, each container's runnable tasks into its averages.
import type { CgroupDriver, CgroupPaths } from '../cgroup/driver.js';
import type { FileSource } from '../io/file-source.js';
import { LOAD_FREQ_MS, stepLoads } from './calc.js';
import { LoadTable, type TableSample } from './table.js';
import { countsWholeHost } from './key.js';
import { countTasks } from './tasks.js';

/** What a worker sends when it reads a container the table does not have yet. */
export interface RegisterMessage {
  type: 'loadavg-register';
  key: string;
  cgroup: CgroupPaths;
  /** the thread whose read found the container new: waiting for its answer, its state is not counted */
  reader: number;
  /** how deep the container's pid namespace is (Reader.depth), for the last pid */
  depth?: number;
}

export function isRegisterMessage(m: unknown): m is RegisterMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as RegisterMessage).type === 'loadavg-register' &&
    typeof (m as RegisterMessage).key === 'string' &&
    typeof (m as RegisterMessage).cgroup === 'object'
  );
}

/** A tracked container as one daemon hands it to the next (plain data). */
export interface KeptLoad extends TableSample {
  key: string;
  cgroup: CgroupPaths;
  depth: number;
  /** seconds (nowSeconds) of the last read */
  lastRead: number;
}

export interface SamplerOptions {
  table: SharedArrayBuffer;
  files: FileSource;
  driver: CgroupDriver;
  procRoot?: string;
  /** containers not read for this long are dropped (seconds) */
  expireAfter?: number;
  /** seconds, monotonic */
  now?: () => number;
  log?: (message: string) => void;
}

export class LoadSampler {
  private readonly table: LoadTable;
  private readonly tracked = new Map<number, { key: string; cgroup: CgroupPaths; depth: number }>();
  private readonly keys = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private warnedFull = false;
  private readonly now: () => number;

  constructor(private readonly o: SamplerOptions) {
    this.table = new LoadTable(o.table);
    this.now = o.now ?? nowSeconds;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), LOAD_FREQ_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Containers tracked now. */
  get size(): number {
    return this.tracked.size;
  }

  /**
   * A worker's message; anything else is ignored. A new container's tasks are counted at once; its
   * averages start from 0 and move at the next 5-second tick (a sample taken now would always catch the
   * reader that asked).
   */
  handle(m: unknown): void {
    // A container counting every host task is shown the host's figures: nothing to sample.
    if (!isRegisterMessage(m) || this.keys.has(m.key) || countsWholeHost(this.o.driver, m.cgroup)) return;
    const slot = this.table.insert(m.key, this.now());
    if (slot < 0) {
      if (!this.warnedFull)
        this.o.log?.(`loadavg: ${this.tracked.size} containers tracked, the table is full: new ones show 0.00 averages`);
      this.warnedFull = true;
      return;
    }
    this.tracked.set(slot, { key: m.key, cgroup: m.cgroup, depth: m.depth ?? 1 });
    this.keys.set(m.key, slot);
    this.sample(slot, m.reader ?? 0);
  }

  /** Every tracked container and its figures, for the daemon that takes the connection over. */
  kept(): KeptLoad[] {
    const out: KeptLoad[] = [];
    for (const [slot, t] of this.tracked) {
      const s = this.table.read(slot, t.key);
      if (s) out.push({ ...s, key: t.key, cgroup: t.cgroup, depth: t.depth, lastRead: this.table.lastRead(slot) });
    }
    return out;
  }

  /** Containers another daemon tracked, with their averages: the load goes on where it was. */
  adopt(loads: KeptLoad[]): void {
    for (const l of loads) {
      if (this.keys.has(l.key)) continue;
      const slot = this.table.insert(l.key, l.lastRead);
      if (slot < 0) return;
      this.table.restore(slot, l, l.lastRead);
      this.tracked.set(slot, { key: l.key, cgroup: l.cgroup, depth: l.depth });
      this.keys.set(l.key, slot);
    }
  }

  /** One round: every container sampled, the ones nobody reads any more dropped. */
  tick(): void {
    const now = this.now();
    for (const slot of [...this.tracked.keys()]) {
      if (now - this.table.lastRead(slot) > (this.o.expireAfter ?? 600)) this.forget(slot);
      else this.sample(slot);
    }
  }

  /**
   * `registering`: the tid of the reader that made the container known; the averages do not move then.
   * The counts leave readers out: the worker serving a read adds its reader (LoadSource).
   */
  private sample(slot: number, registering?: number): void {
    const t = this.tracked.get(slot)!;
    let counts;
    // The thread lists are read afresh at every sample (texts are otherwise kept for the render).
    this.o.files.beginRender();
    try {
      counts = countTasks(this.o.files, this.o.driver, t.cgroup, {
        ...(this.o.procRoot ? { procRoot: this.o.procRoot } : {}),
        reader: registering ?? 0,
        depth: t.depth,
      });
    } catch {
      // The cgroup is gone: the container ended.
      this.forget(slot);
      return;
    }
    const prev = this.table.read(slot)?.avg ?? [0, 0, 0];
    const avg = registering === undefined ? stepLoads(prev, counts.running + counts.blocked) : prev;
    this.table.write(slot, { avg, ...counts });
  }

  private forget(slot: number): void {
    const t = this.tracked.get(slot);
    if (!t) return;
    this.table.remove(slot);
    this.tracked.delete(slot);
    this.keys.delete(t.key);
  }
}

/** Seconds since 2020 (fits the table's int32s for decades; the same clock in every thread). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000) - 1577836800;
}
