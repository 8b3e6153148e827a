// How many descriptors a serving process may keep open, and how many worker threads it runs.
import { readFileSync } from 'node:fs';

/** The soft limit on open files (Node raises it to the hard limit at start). */
function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : 1 << 20;
  } catch {
    return 1024;
  }
}

export interface DescriptorBudget {
  /** each worker's held /proc and cgroup files */
  worker: number;
  /** each worker's containers remembered, one descriptor each (on the init's comm) */
  containers: number;
  /** the load sampler's held files */
  sampler: number;
}

/**
 * Descriptors the daemon may keep open: half the limit shared by the workers' files, an eighth by the
 * containers their resolvers remember, a fifth for the sampler; the rest (over a sixth) for
 * /dev/fuse, logs and the reads that open and close.
 */
export function descriptorBudget(threads: number, limit = openFileLimit()): DescriptorBudget {
  return {
    worker: Math.max(16, Math.min(4096, Math.floor(limit / 2 / threads))),
    containers: Math.max(4, Math.min(1024, Math.floor(limit / 8 / threads))),
    sampler: Math.max(16, Math.min(8192, Math.floor(limit / 5))),
  };
}

/**
 * Default worker count: 2, whatever the number of cores. One worker reads at a time (fs/poller.ts); the
 * other stands by for a render that blocks (the watchdog hands it the turn), so a slow read never
 * stalls every reader. More workers serve no faster, and each costs its isolate (some 8 MiB idle) and,
 * as the turn passes round, its old generation: 8 workers (a default of one per core on an 8-core host)
 * put the daemon at 174 MiB instead of 98 under the memory bench (docs/benchmarks.md). `--threads N`
 * gives more, to ride out more blocked renders at once.
 */
export function defaultThreads(): number {
  return 2;
}

/**
 * Each worker's old generation, at most (MiB). V8 lets an isolate's old generation grow to some tens of
 * MiB of garbage before it collects, so two workers put 30 MiB on the daemon under a long load; with a
 * cap it collects sooner. What a worker keeps alive is bounded by the budget above (descriptors, the
 * containers remembered, the settings read): under the worst case measured (docs/benchmarks.md, "Memory")
 * a worker lives within half this cap; one that reached it would be ended and replaced.
 */
export const WORKER_OLD_GENERATION_MB = 16;
