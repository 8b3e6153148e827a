// The content module each FUSE worker loads: one file per view, rendered for the process that reads it.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Caller } from '../../fs/filesystem.js';
import { logLine } from '../../fs/log-line.js';
import type { FileSpec } from '../../fs/tree/virtual-tree.js';
import type { ContentHooks } from '../../fs/worker.js';
import type { CgroupDriver } from './cgroup/driver.js';
import { createDriver } from './cgroup/create-driver.js';
import { MissingFileError } from './cgroup/errors.js';
import { hostLayout, type CgroupLayout } from '../cgroup-layout.js';
import { DescriptorCache, ONE_RECORD, type ReadOptions } from './io/file-source.js';
import { LoadSource } from './loadavg/source.js';
import { countTasks } from './loadavg/tasks.js';
import { ReaderResolver, type Reader } from './reader/resolver.js';
import { VIEW_PATHS } from './views/paths.js';
import { VIEWS } from './views/registry.js';
import { HOST_FILE, type View, type ViewEnv } from './views/view.js';
import { LocalOnce, OnceSet, type Once } from './once-set.js';

/** Plain data, given to every worker. */
export interface ContentOptions {
  /** prefix of the host's files (/proc/meminfo...); tests give a fixture directory */
  hostRoot?: string;
  /** where /proc is for finding readers (tests give a fixture tree) */
  procRoot?: string;
  /** the cgroup layout, detected once by the daemon; detected here when absent */
  layout?: CgroupLayout;
  /** --no-swap turns it off */
  swap?: boolean;
  /** --no-cpu-quota turns it off */
  cpuQuota?: boolean;
  /** --no-loadavg turns it off */
  loadavg?: boolean;
  /** descriptors each worker may keep open on files (the daemon divides its limit among the workers) */
  descriptors?: number;
  /** containers each worker remembers, a descriptor each */
  containers?: number;
  /** how long (ms) the reader found for a pid is reused; the bench gives 0 to measure what a new process such as cat pays */
  pidCacheMs?: number;
  /** how long (ms) after a container is first seen its settings are read at every render (SETTLING_MS); the bench gives 0 */
  settlingMs?: number;
}

/** Shared by every worker. */
export interface ContentShared {
  /** the load sampler's table (LoadTable.create) */
  loadavg?: SharedArrayBuffer;
  /** log-once keys (OnceSet.create) */
  once?: SharedArrayBuffer;
}

/** Sends a message to the daemon's main thread (the load sampler). */
export type Post = (message: unknown) => void;

/** Matches what must never appear in a rendered file. */
const GARBAGE = /NaN|undefined|Infinity/;

export function createFiles(
  options: ContentOptions = {},
  shared: ContentShared = {},
  post: Post = () => undefined,
  hooks: ContentHooks = { slow: () => undefined },
): FileSpec[] {
  const content = new ViewContent(options, shared, post, logLine, hooks.slow);
  // Texts are byte strings (FileSource decodes latin1, a character a byte): back to the very bytes, so
  // a host file's non-ASCII bytes (a cpuinfo model name) pass through unchanged.
  return VIEWS.map((view) => ({
    path: VIEW_PATHS[view.name].path,
    render: (caller: Caller) => Buffer.from(content.render(view, caller.pid), 'latin1'),
  }));
}

/** One worker's views, descriptors and caches. */
export class ViewContent {
  readonly files: DescriptorCache;
  readonly driver: CgroupDriver;
  readonly resolver: ReaderResolver;
  readonly env: ViewEnv;
  private readonly once: Once;
  private readonly hostRoot: string;
  /** the thread whose read is being rendered */
  private tid = 0;

  constructor(
    o: ContentOptions,
    shared: ContentShared,
    post: Post,
    private readonly log: (message: string) => void = logLine,
    /** called before finding a reader not seen before (its /proc files read, perhaps all of /proc): another worker takes requests meanwhile */
    private readonly slow: () => void = () => undefined,
  ) {
    this.hostRoot = o.hostRoot ?? '';
    this.files = new DescriptorCache({ capacity: o.descriptors ?? 512 });
    const procRoot = o.procRoot ?? '/proc';
    const files = this.files;
    this.driver = createDriver({ files, layout: o.layout ?? hostLayout() });
    this.resolver = new ReaderResolver({
      files,
      driver: this.driver,
      procRoot,
      ...(o.containers ? { capacity: o.containers } : {}),
      ...(o.pidCacheMs !== undefined ? { pidTtlMs: o.pidCacheMs } : {}),
      ...(o.settlingMs !== undefined ? { settlingMs: o.settlingMs } : {}),
    });
    const load = new LoadSource({
      driver: this.driver,
      ...(o.loadavg === false || !shared.loadavg ? {} : { table: shared.loadavg }),
      post,
      count: (r, tid) => countTasks(files, this.driver, r.cgroup, { procRoot, reader: tid, depth: r.depth }),
    });
    this.env = {
      files,
      driver: this.driver,
      options: { swap: o.swap ?? true, cpuQuota: o.cpuQuota ?? true, loadavg: o.loadavg ?? true },
      host: (path, o) => this.host(path, o),
      load: (r) => load.sample(r, this.tid),
    };
    const full = () =>
      this.log("the daemon's set of things said once is full: failures of other containers and files are no longer logged");
    this.once = shared.once ? new OnceSet(shared.once, full) : new LocalOnce();
  }

  /** The file for the process `pid`; the host's file when its figures cannot be had (never an error). */
  render(view: View<unknown>, pid: number): string {
    this.tid = pid;
    let reader = this.begin(view, pid);
    for (let attempt = 0; reader; attempt++) {
      try {
        const snapshot = view.gather(this.env, reader);
        if (snapshot === HOST_FILE) break;
        const text = view.render(snapshot);
        if (GARBAGE.test(text)) throw new Error(`a figure did not compute: ${JSON.stringify(text.slice(0, 200))}`);
        return text;
      } catch (err) {
        // The cgroup is gone (its container is ending, or its init was moved): look the reader up afresh, once.
        if (attempt === 0 && err instanceof MissingFileError && !existsSync(dirname(err.path))) {
          this.resolver.invalidate(reader);
          reader = this.begin(view, pid);
          continue;
        }
        this.logOnce(reader, view.name, err);
        break;
      }
    }
    const file = VIEW_PATHS[view.name];
    return this.host(file.host, file.oneRecord ? ONE_RECORD : undefined);
  }

  private host(path: string, o?: ReadOptions): string {
    const text = this.files.read(this.hostRoot + path, o);
    if (text === undefined) throw new MissingFileError(this.hostRoot + path);
    return text;
  }

  /** A new render for `pid`'s reader; a container still being set up reads its settings afresh (SETTLING_MS). */
  private begin(view: View<unknown>, pid: number): Reader | undefined {
    const reader = this.findReader(view, pid);
    this.files.beginRender({ freshSettings: reader !== undefined && this.resolver.settling(reader) });
    return reader;
  }

  /** The reader behind `pid`; undefined (the host's file) when it cannot be told, errors included (EMFILE...). */
  private findReader(view: View<unknown>, pid: number): Reader | undefined {
    if (!this.resolver.known(pid)) this.slow();
    try {
      return this.resolver.resolve(pid);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (this.once.first(`resolve ${code} ${view.name}`)) {
        this.log(
          `${view.name} for pid ${pid}: cannot tell whose view it is: ${why(err)}; serving the host's file (said once for this file and error)`,
        );
      }
      return undefined;
    }
  }

  private logOnce(reader: Reader, file: string, err: unknown): void {
    if (!this.once.first(`${reader.key} ${file}`)) return;
    this.log(`${file} for ${reader.label}: ${why(err)}; serving the host's file (said once for this container and file)`);
  }
}

const why = (err: unknown): string => (err instanceof Error ? err.message : String(err));
