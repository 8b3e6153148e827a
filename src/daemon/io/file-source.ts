// Reads of /proc and cgroup files: pread on held descriptors (one syscall a read), memoized within a render.
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';

/**
 * Where views, drivers and the reader resolver get file contents. Texts are byte strings: decoded as
 * latin1, a character for each byte, so that a host file goes out with its very bytes (createFiles
 * encodes them back as latin1) whatever its encoding; a name taken from a text for a path (a cgroup's)
 * is decoded as UTF-8 first (`fromBytes`). `read` keeps a descriptor open and
 * re-reads it from offset 0 (the kernel renders /proc and cgroup files afresh at every read from
 * offset 0), `readOnce` opens and closes (files under /proc/PID, which come and go with processes).
 */
export interface FileSource {
  /** The file's text; undefined when it does not exist. Other errors throw (ENODEV: the cgroup went away). */
  read(path: string, o?: ReadOptions): string | undefined;
  /** The file parsed by `parse`: read and parsed at most once per render, however many figures come from it. */
  parsed<T>(path: string, parse: (text: string) => T, o?: ReadOptions): T | undefined;
  /** The same without keeping a descriptor. */
  readOnce(path: string, o?: ReadOptions): string | undefined;
  /** The subdirectories of a directory (child cgroups); [] when it does not exist. */
  subdirs(path: string): string[];
  /** Start a new render: texts read from now on are read afresh (each is read at most once per render). */
  beginRender(o?: RenderOptions): void;
}

export interface RenderOptions {
  /** read the files read with an age too (and keep their texts for later renders): the reader's container is still being set up */
  freshSettings?: boolean;
}

export interface ReadOptions {
  /**
   * A text read this long ago (ms) or less may be given again: settings such as limits and cpusets,
   * which change rarely, need not be read at every render. (A read without an age, in the same render
   * or later, reads the file; its text then serves the reads with an age.)
   */
  maxAgeMs?: number;
  /**
   * The file is one record: the kernel prints it whole in one read (single_open files such as
   * /proc/meminfo, /proc/stat, /proc/PID/stat and every cgroup file but the thread lists). Other
   * kernel files (cpuinfo, diskstats, tasks, cgroup.threads) give at most about a page per read and
   * are read until the kernel says the end; that costs one read more.
   */
  oneRecord?: boolean;
}

/** A byte string (as FileSource gives texts) as the UTF-8 it holds: for names used as paths. */
export const fromBytes = (s: string): string => (/[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s);

/** For a file of one record. */
export const ONE_RECORD: ReadOptions = Object.freeze({ oneRecord: true });

/** Errors meaning "this file is not there": the view treats the figure as missing. */
const ABSENT = new Set(['ENOENT', 'ESRCH', 'ENOTDIR']);

export interface DescriptorCacheOptions {
  /** descriptors held at most (least recently used ones are closed) */
  capacity?: number;
  /** honour `maxAgeMs` (tests that change settings between renders turn it off) */
  reuseSettings?: boolean;
  /** milliseconds, monotonic (tests give their own) */
  now?: () => number;
}

export class DescriptorCache implements FileSource {
  private readonly fds = new Map<string, number>();
  private readonly memo = new Map<string, string | undefined>();
  private readonly parsedMemo = new Map<(text: string) => unknown, Map<string, unknown>>();
  private readonly aged = new Map<string, { text: string | undefined; at: number }>();
  private readonly capacity: number;
  private readonly reuse: boolean;
  private readonly now: () => number;
  /** this render reads settings afresh (beginRender) */
  private fresh = false;
  private buf = Buffer.allocUnsafe(64 * 1024);
  /** syscalls made (open, pread, close), for tests and the bench */
  syscalls = 0;

  constructor(options: DescriptorCacheOptions = {}) {
    this.capacity = options.capacity ?? 512;
    this.reuse = options.reuseSettings ?? true;
    this.now = options.now ?? (() => performance.now());
  }

  beginRender(o: RenderOptions = {}): void {
    this.memo.clear();
    this.parsedMemo.clear();
    this.fresh = o.freshSettings ?? false;
  }

  parsed<T>(path: string, parse: (text: string) => T, o: ReadOptions = {}): T | undefined {
    let byPath = this.parsedMemo.get(parse);
    if (!byPath) this.parsedMemo.set(parse, (byPath = new Map()));
    if (byPath.has(path)) return byPath.get(path) as T | undefined;
    const text = this.read(path, o);
    const value = text === undefined ? undefined : parse(text);
    byPath.set(path, value);
    return value;
  }

  read(path: string, o: ReadOptions = {}): string | undefined {
    if (this.memo.has(path)) return this.memo.get(path);
    const aged = this.reuse && (o.maxAgeMs ?? 0) > 0;
    if (aged && !this.fresh) {
      const kept = this.aged.get(path);
      // Not memoized: a read without an age in this render still reads the file.
      if (kept && this.now() - kept.at <= o.maxAgeMs!) return kept.text;
    }
    const text = this.readHeld(path, o.oneRecord ?? false);
    this.memo.set(path, text);
    if (aged || this.aged.has(path)) {
      if (this.aged.size >= this.capacity * 2) this.aged.clear();
      this.aged.set(path, { text, at: this.now() });
    }
    return text;
  }

  readOnce(path: string, o: ReadOptions = {}): string | undefined {
    const fd = this.openIfPresent(path);
    if (fd === undefined) return undefined;
    try {
      return this.readAll(fd, o.oneRecord ?? false);
    } catch (err) {
      if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    } finally {
      this.syscalls++;
      closeSync(fd);
    }
  }

  subdirs(path: string): string[] {
    try {
      this.syscalls += 3;
      return readdirSync(path, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch (err) {
      if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return [];
      throw err;
    }
  }

  /** Descriptors held now. */
  get held(): number {
    return this.fds.size;
  }

  /** Close every held descriptor. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.memo.clear();
    this.aged.clear();
  }

  private readHeld(path: string, oneRecord: boolean): string | undefined {
    const fd = this.fds.get(path);
    if (fd !== undefined) {
      try {
        const text = this.readAll(fd, oneRecord);
        // Most recently used last: Map keeps insertion order.
        this.fds.delete(path);
        this.fds.set(path, fd);
        return text;
      } catch (err) {
        // ENODEV: the cgroup was removed (perhaps made again under the same name); ESRCH: the process
        // behind a /proc file ended. Either way the descriptor is dead: open the path afresh.
        this.drop(path, fd);
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (code !== 'ENODEV' && !ABSENT.has(code) && code !== 'EBADF') throw err;
      }
    }
    const opened = this.openIfPresent(path);
    if (opened === undefined) return undefined;
    let text: string;
    try {
      text = this.readAll(opened, oneRecord);
    } catch (err) {
      this.syscalls++;
      closeSync(opened);
      if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
    this.fds.set(path, opened);
    if (this.fds.size > this.capacity) {
      const [oldPath, oldFd] = this.fds.entries().next().value as [string, number];
      this.drop(oldPath, oldFd);
    }
    return text;
  }

  /** A descriptor for reading path, or undefined when it is absent (ABSENT's errnos). */
  private openIfPresent(path: string): number | undefined {
    try {
      this.syscalls++;
      return openSync(path, 'r');
    } catch (err) {
      if (ABSENT.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
  }

  private drop(path: string, fd: number): void {
    this.fds.delete(path);
    try {
      this.syscalls++;
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  /**
   * Everything from offset 0. A kernel file of many records gives at most about a page per read
   * (seq_file), so a short read is not the end: read on until a read gives nothing. A one-record
   * file comes whole in one read as long as the buffer holds it.
   */
  private readAll(fd: number, oneRecord: boolean): string {
    let pos = 0;
    for (;;) {
      if (pos === this.buf.length) {
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, pos);
        this.buf = bigger;
      }
      this.syscalls++;
      const n = readSync(fd, this.buf, pos, this.buf.length - pos, pos);
      if (n === 0) break;
      pos += n;
      if (oneRecord && pos < this.buf.length) break;
    }
    return this.buf.toString('latin1', 0, pos);
  }
}
