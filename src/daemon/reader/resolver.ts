// Whose view a read gets: the caller's pid → its pid namespace → that namespace's init → init's cgroups.
import { closeSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import type { CgroupDriver, CgroupPaths } from '../cgroup/driver.js';
import { ONE_RECORD, type FileSource } from '../io/file-source.js';
import { parseNsLink, parseStartTime, parseStatus } from './proc-parse.js';

/** Whose figures a read shows. */
export interface Reader {
  /** 'host': a reader in the daemon's own pid namespace (its own cgroup); 'container': another namespace (its init's cgroup) */
  scope: 'host' | 'container';
  /** identifies the container (or host cgroup) in logs: once per key and file */
  key: string;
  /** for log lines */
  label: string;
  cgroup: CgroupPaths;
  /** the host pid of the namespace's init (container) or of the reader itself (host) */
  pid: number;
  /** the init's start in clock ticks after boot (container); 0 for a host reader */
  start: number;
  /** how deep its pid namespace is: the length of its processes' NSpid lines (1: the daemon's own) */
  depth: number;
  /** cleared when the cgroup turned out to be gone: the next read resolves afresh */
  valid: boolean;
  /** a container: until then (monotonic ms) its cgroup's settings are read at every render (see `settling`) */
  settledAt?: number;
}

export interface ResolverOptions {
  files: FileSource;
  driver: CgroupDriver;
  /** where /proc is (tests give a fixture tree) */
  procRoot?: string;
  /** milliseconds, monotonic */
  now?: () => number;
  /** how long a pid's answer is reused (a process never changes pid namespace; within this time its pid cannot be reused) */
  pidTtlMs?: number;
  /** how often a container init's cgroup is read again (it may be moved) */
  recheckMs?: number;
  /** pid namespaces remembered at most */
  capacity?: number;
  /** how long after a container is first seen its settings are read at every render (default SETTLING_MS) */
  settlingMs?: number;
}

interface NsEntry {
  reader: Reader;
  /** a descriptor on the init's /proc/PID/comm: reading it fails with ESRCH once that very process is gone, even if its pid is reused */
  fd: number;
  checkedAt: number;
}

const PID_CACHE_MAX = 8192;

/**
 * A container is often first seen while its runtime sets it up: runc stats the files it binds from
 * inside the new namespaces, and writes the cgroup's limits only afterwards. Settings read then
 * (no limit yet) would be reused for SETTING_AGE_MS (1 s), just when programs read their limits; so
 * for this long after it is first seen a container's settings are read at every render.
 */
export const SETTLING_MS = 2000;

export class ReaderResolver {
  private readonly procRoot: string;
  private readonly now: () => number;
  private readonly pidTtl: number;
  private readonly recheck: number;
  private readonly capacity: number;
  private readonly settlingMs: number;
  private readonly byPid = new Map<number, { reader: Reader; until: number }>();
  private readonly byNs = new Map<number, NsEntry>();
  private readonly probe = Buffer.allocUnsafe(64);
  /** when the namespaces of ended containers were last looked for */
  private sweptAt: number;
  /** the daemon's own pid namespace */
  readonly selfNs: number | undefined;
  /** readlink and pread calls made (the /proc files it reads are counted by the FileSource), for the bench */
  syscalls = 0;

  constructor(private readonly o: ResolverOptions) {
    this.procRoot = o.procRoot ?? '/proc';
    this.now = o.now ?? (() => performance.now());
    this.pidTtl = o.pidTtlMs ?? 1000;
    this.recheck = o.recheckMs ?? 10000;
    this.capacity = o.capacity ?? 1024;
    this.settlingMs = o.settlingMs ?? SETTLING_MS;
    this.selfNs = this.nsOf('self');
    this.sweptAt = this.now();
  }

  /** The reader behind a request's pid; undefined when it cannot be told (pid 0, a process already gone). */
  resolve(pid: number): Reader | undefined {
    if (!(pid > 0)) return undefined;
    const now = this.now();
    if (now - this.sweptAt >= this.recheck) this.sweep(now);
    const hit = this.cached(pid, now);
    if (hit) return hit;
    const ns = this.nsOf(pid);
    if (ns === undefined) return undefined;
    const reader = ns === this.selfNs ? this.hostReader(pid) : this.containerReader(pid, ns, now);
    if (reader) {
      if (this.byPid.size >= PID_CACHE_MAX) this.byPid.clear();
      this.byPid.set(pid, { reader, until: now + this.pidTtl });
    }
    return reader;
  }

  /** Is `pid`'s reader at hand (resolve will read nothing but, for a container, whether its init lives)? */
  known(pid: number): boolean {
    return this.cached(pid, this.now()) !== undefined;
  }

  /** `pid`'s reader from the pid cache, while its entry is fresh and the reader valid. */
  private cached(pid: number, now: number): Reader | undefined {
    const hit = this.byPid.get(pid);
    return hit && hit.until > now && hit.reader.valid ? hit.reader : undefined;
  }

  /** Forget a reader whose cgroup could not be read: the next read finds the cgroup again. */
  invalidate(reader: Reader): void {
    reader.valid = false;
  }

  /** Is the reader's container still being set up (first seen less than settlingMs ago)? Its settings are then read at every render. */
  settling(reader: Reader): boolean {
    return reader.settledAt !== undefined && this.now() < reader.settledAt;
  }

  /** Containers remembered now. */
  get containers(): number {
    return this.byNs.size;
  }

  close(): void {
    for (const [ns, e] of this.byNs) this.drop(ns, e);
    this.byPid.clear();
  }

  /** Forget the containers whose init has ended (their descriptors would otherwise be held for good). */
  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [ns, e] of this.byNs) if (!this.alive(e)) this.drop(ns, e);
  }

  private hostReader(pid: number): Reader | undefined {
    const text = this.o.files.readOnce(`${this.procRoot}/${pid}/cgroup`, ONE_RECORD);
    if (text === undefined) return undefined;
    const cgroup = this.o.driver.paths(text);
    const where = this.o.driver.describe(cgroup);
    return {
      scope: 'host',
      key: `host:${where}`,
      label: `a host process (pid ${pid}, cgroup ${where})`,
      cgroup,
      pid,
      start: 0,
      depth: 1,
      valid: true,
    };
  }

  private containerReader(pid: number, ns: number, now: number): Reader | undefined {
    let e = this.byNs.get(ns);
    if (e && (!e.reader.valid || !this.alive(e))) {
      this.drop(ns, e);
      e = undefined;
    }
    if (e) {
      // Least recently used first: the one forgotten when there are too many.
      this.byNs.delete(ns);
      this.byNs.set(ns, e);
    }
    if (e && now - e.checkedAt > this.recheck) {
      // The init may have been moved to another cgroup since.
      const text = this.o.files.readOnce(`${this.procRoot}/${e.reader.pid}/cgroup`, ONE_RECORD);
      if (text === undefined) {
        this.drop(ns, e);
        e = undefined;
      } else {
        const cgroup = this.o.driver.paths(text);
        if (JSON.stringify(cgroup) !== JSON.stringify(e.reader.cgroup)) {
          e.reader.valid = false;
          e.reader = { ...e.reader, cgroup, label: this.label(ns, e.reader.pid, cgroup), valid: true };
        }
        e.checkedAt = now;
      }
    }
    return (e ?? this.findContainer(pid, ns, now))?.reader;
  }

  private findContainer(pid: number, ns: number, now: number): NsEntry | undefined {
    const found = this.findInit(pid, ns);
    if (found === undefined) return undefined;
    const { init, depth } = found;
    let fd: number;
    try {
      fd = openSync(`${this.procRoot}/${init}/comm`, 'r');
    } catch {
      return undefined;
    }
    let entry: NsEntry | undefined;
    try {
      entry = this.entry(init, ns, depth, fd, now);
    } finally {
      // Not kept (the init ended meanwhile, or a read failed): the descriptor is closed on every path.
      if (!entry) closeSync(fd);
    }
    if (!entry) return undefined;
    if (this.byNs.size >= this.capacity) this.sweep(now);
    if (this.byNs.size >= this.capacity) {
      const [oldNs, old] = this.byNs.entries().next().value as [number, NsEntry];
      this.drop(oldNs, old);
    }
    this.byNs.set(ns, entry);
    return entry;
  }

  /** The entry of a namespace whose init is `init`, `fd` open on its comm; undefined if it is not that namespace's any more. */
  private entry(init: number, ns: number, depth: number, fd: number, now: number): NsEntry | undefined {
    // Between finding the init and opening its file the pid could have ended and been reused.
    const stat = this.o.files.readOnce(`${this.procRoot}/${init}/stat`, ONE_RECORD);
    const cg = this.o.files.readOnce(`${this.procRoot}/${init}/cgroup`, ONE_RECORD);
    const start = stat === undefined ? undefined : parseStartTime(stat);
    if (this.nsOf(init) !== ns || start === undefined || cg === undefined) return undefined;
    const cgroup = this.o.driver.paths(cg);
    return {
      reader: {
        scope: 'container',
        key: `ns:${ns}@${start}`,
        label: this.label(ns, init, cgroup),
        cgroup,
        pid: init,
        start,
        depth,
        valid: true,
        settledAt: now + this.settlingMs,
      },
      fd,
      checkedAt: now,
    };
  }

  private label(ns: number, init: number, cgroup: CgroupPaths): string {
    return `the container of pid namespace ${ns} (init pid ${init}, cgroup ${this.o.driver.describe(cgroup)})`;
  }

  /**
   * The init of `ns`: the reader itself, or the first ancestor whose pid in its own namespace is 1
   * (walking up PPid while the depth of NSpid stays the same); a reader that entered the namespace
   * with setns (docker exec, nsenter) has parents outside it, so then every process is looked at.
   */
  private findInit(pid: number, ns: number): { init: number; depth: number } | undefined {
    let st = this.status(pid);
    // A thread other than its process's main one: start from the process (a thread's NSpid is its own id).
    if (st && st.tgid > 0 && st.tgid !== pid) {
      pid = st.tgid;
      st = this.status(pid);
    }
    if (!st) return undefined;
    const depth = st.nspid.length;
    if (st.nspid[depth - 1] === 1) return { init: pid, depth };
    let cur = st.ppid;
    for (let i = 0; i < 1024 && cur > 0; i++) {
      const p = this.status(cur);
      if (!p || p.nspid.length < depth) break;
      if (p.nspid.length === depth && p.nspid[depth - 1] === 1) return this.nsOf(cur) === ns ? { init: cur, depth } : undefined;
      cur = p.ppid;
    }
    const init = this.scan(ns, depth);
    return init === undefined ? undefined : { init, depth };
  }

  private scan(ns: number, depth: number): number | undefined {
    let names: string[];
    try {
      names = readdirSync(this.procRoot);
    } catch {
      return undefined;
    }
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57 || this.nsOf(name) !== ns) continue;
      const st = this.status(Number(name));
      if (st && st.nspid.length === depth && st.nspid[depth - 1] === 1) return Number(name);
    }
    return undefined;
  }

  private status(pid: number) {
    const text = this.o.files.readOnce(`${this.procRoot}/${pid}/status`, ONE_RECORD);
    return text === undefined ? undefined : parseStatus(text);
  }

  private nsOf(pid: number | string): number | undefined {
    this.syscalls++;
    try {
      return parseNsLink(readlinkSync(`${this.procRoot}/${pid}/ns/pid`));
    } catch {
      return undefined;
    }
  }

  private alive(e: NsEntry): boolean {
    this.syscalls++;
    try {
      readSync(e.fd, this.probe, 0, this.probe.length, 0);
      return true;
    } catch {
      return false;
    }
  }

  private drop(ns: number, e: NsEntry): void {
    e.reader.valid = false;
    this.byNs.delete(ns);
    try {
      closeSync(e.fd);
    } catch {
      // already closed
    }
  }
}
