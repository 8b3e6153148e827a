// tsproc containers that read /proc/meminfo in a loop while a test stops, reloads or replaces the
// daemon: each read is logged to a file the test follows, so failed reads are counted, and when the
// containers read right again is known, without restarting them.
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { tempDir, type Sandbox, type Started } from './runner.js';
import { waitFor } from './daemon.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** A container's read as the test saw it arrive: ok (its own MemTotal) or not, and when. */
export interface Read {
  at: number;
  ok: boolean;
  line: string;
}

/** Follows a file the container appends a line to per read; each line is stamped when it is seen. */
export function follow(file: string): { reads: Read[]; bytes(): number; stop(): void } {
  const reads: Read[] = [];
  let offset = 0;
  let partial = '';
  const buf = Buffer.alloc(1 << 20);
  const timer = setInterval(() => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      // only what was added since the last look: the file grows for minutes
      for (let n; (n = readSync(fd, buf, 0, buf.length, offset)) > 0;) {
        offset += n;
        const lines = (partial + buf.toString('latin1', 0, n)).split('\n');
        partial = lines.pop()!;
        const at = Date.now();
        for (const line of lines) reads.push({ at, ok: line.startsWith('ok'), line });
      }
    } finally {
      closeSync(fd);
    }
  }, 25);
  return { reads, bytes: () => offset, stop: () => clearInterval(timer) };
}

// Every read is whole and the container's own (MemTotal of its limit), else it is a failure.
const LOOP = (kb: number) =>
  `while [ ! -e /out/stop ]; do l=$(head -1 /proc/meminfo 2>&1); case "$l" in "MemTotal:"*" ${kb} kB") echo ok;; *) echo "bad $l";; esac >> /out/reads; done`;

export interface Reader {
  /** its memory limit */
  mib: number;
  /** the directory bound at /out (the reads file, the stop file) */
  out: string;
  started: Started;
  log: ReturnType<typeof follow>;
}

export interface Readers {
  containers: Reader[];
  /** Reads of every container from `since` on: how many, and the failures. */
  window(since: number): { reads: number; failed: Read[] };
  /** Every container has read right at least `n` times since `since`; fails after `limitMs` with `context()` added. */
  readingAgain(since: number, context: () => string, n?: number, limitMs?: number): Promise<void>;
  /** How long after `since` the last container to read right again did (each container's first right read at or after it). */
  recovered(since: number): number;
  /** Every container is the process it was at the start (none was restarted). */
  noneRestarted(): boolean;
  /** End the loops and wait for the containers to exit (also the teardown's). */
  stop(): Promise<void>;
}

/**
 * One busybox container per limit (MiB), started with `tsproc run --lxcfs-root DIR -m LIMIT` in the
 * sandbox, reading in a loop; resolves once each has read its own figures 20 times.
 */
export async function startReaders(
  t: Teardown,
  s: Sandbox,
  root: string,
  dir: string,
  mibs: number[],
  context: () => string = () => '',
): Promise<Readers> {
  const containers: Reader[] = mibs.map((mib) => {
    const out = tempDir(t, 'reads');
    const started = s.start([
      '--rootfs',
      root,
      '-v',
      `${out}:/out`,
      '--lxcfs-root',
      dir,
      '-m',
      `${mib}m`,
      '--',
      'sh',
      '-c',
      LOOP(mib * 1024),
    ]);
    return { mib, out, started, log: follow(`${out}/reads`) };
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const c of containers) {
        writeFileSync(`${c.out}/stop`, '');
        c.log.stop();
      }
      await Promise.all(containers.map((c) => c.started.done));
    })());
  t.teardown(stop);
  const all = () => containers.flatMap((c) => c.log.reads);
  const last = () =>
    containers
      .map(
        (c) =>
          `${c.mib}m: ${c.log.reads
            .slice(-3)
            .map((r) => r.line)
            .join(' | ')}`,
      )
      .join('; ');
  await waitFor(() => containers.every((c) => c.log.reads.filter((r) => r.ok).length >= 20), 'every container reads its own figures').catch(
    (err: Error) => {
      // each container's own output (tsproc run's messages) and the caller's (the daemon's log)
      const outputs = containers.map((c) => `${c.mib}m's tsproc run said: ${c.started.output() || '(nothing)'}`).join('\n');
      throw new Error(`${err.message}; last reads: ${last()}\n${outputs}\n${context()}`);
    },
  );
  return {
    containers,
    window: (since) => {
      const reads = all().filter((r) => r.at >= since);
      return { reads: reads.length, failed: reads.filter((r) => !r.ok) };
    },
    readingAgain: (since, context, n = 10, limitMs = 60_000) =>
      waitFor(
        () => containers.every((c) => c.log.reads.filter((r) => r.at >= since && r.ok).length >= n),
        'every container reads right again',
        limitMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last reads: ${last()}; ${context()}`);
      }),
    recovered: (since) => Math.max(...containers.map((c) => c.log.reads.find((r) => r.at >= since && r.ok)!.at)) - since,
    noneRestarted: () => containers.every((c) => c.started.child.exitCode === null),
    stop,
  };
}
