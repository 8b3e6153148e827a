// Starts the worker threads that serve one FUSE connection, drains them for a hand-over, and knows
// when they have all stopped.
import { EventEmitter } from 'node:events';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Agreement, DispatcherOptions } from './dispatcher.js';
import { logLine } from './log-line.js';
import { closeTurns, controlSlots, giveUp } from './poller.js';
import { TurnWatchdog } from './turn-watchdog.js';
import { HandleStore, type HandleStoreShared, type KeptHandle } from './tree/handle-store.js';

/** The workers' shared switches (an Int32Array over `WorkerConfig.control`). */
export const Control = {
  /** 0: wait before the first read (a server taking a connection over); 1: serve */
  OPEN: 0,
  /** 1: answer the request in hand, then end (a drain) */
  DRAIN: 1,
  // and fs/poller.ts's TurnSlot from 2 on
} as const;

export interface WorkerConfig {
  index: number;
  /** how many workers serve the connection (the turn passes from one to the next) */
  threads: number;
  fd: number;
  /** a non-blocking clone of fd that the poller tries before it blocks, or -1 (fs/poller.ts) */
  spinFd: number;
  /** file URL of a module exporting createFiles (see ContentModule in worker.ts) */
  contentModule: string;
  contentOptions: unknown;
  /** SharedArrayBuffers and the like, shared by all workers */
  contentShared: unknown;
  handles: HandleStoreShared;
  control: SharedArrayBuffer;
  time: number;
  debug: boolean;
  dispatcher: Pick<DispatcherOptions, 'maxPages' | 'maxWrite' | 'validity'>;
}

export interface WorkerExit {
  type: 'exit';
  index: number;
  reason: 'unmounted' | 'destroyed' | 'drained' | 'error';
  message?: string;
}

export interface ServerOptions {
  fd: number;
  /** a non-blocking clone of fd (FuseConnection.spinFd), held by the caller: the workers' poller spins on it; -1 or none: every read blocks */
  spinFd?: number;
  threads: number;
  contentModule: string;
  contentOptions?: unknown;
  contentShared?: unknown;
  /** messages the content module's `post` sends from a worker */
  onContentMessage?: (message: unknown) => void;
  debug?: boolean;
  dispatcher?: WorkerConfig['dispatcher'];
  /** the nodes' time (seconds): a server taking a connection over keeps the previous one's */
  time?: number;
  /** start with the workers waiting before their first read, until open() */
  gated?: boolean;
  /** each worker's heap limits (an isolate that reaches them is ended, and replaced) */
  resourceLimits?: ResourceLimits;
  /**
   * Makes one request on the connection, from another process (a stat of one of its files), to wake
   * a worker blocked in read(2) when draining: nothing else can, short of aborting the connection.
   */
  wake?: () => void;
}

/** What a connection's server hands to the next: INIT's agreement, the node time, the open handles. */
export interface ConnectionState {
  agreement?: Agreement;
  time: number;
  handles: KeptHandle[];
}

/** Emits 'stopped' once every worker has ended (the connection is gone, or the workers drained). */
export class FuseServer extends EventEmitter {
  private readonly workers = new Map<number, Worker>();
  private readonly handles: HandleStoreShared = HandleStore.create();
  private readonly control: SharedArrayBuffer;
  private readonly time: number;
  private ending = false;
  private restarts = 0;
  /** what INIT settled, as a worker told it (or as the previous server handed it over) */
  agreement: Agreement | undefined;

  private constructor(private readonly options: ServerOptions) {
    super();
    this.time = options.time ?? Math.floor(Date.now() / 1000);
    this.control = new SharedArrayBuffer(4 * controlSlots(options.threads));
    Atomics.store(new Int32Array(this.control), Control.OPEN, options.gated ? 0 : 1);
  }

  /** Start the workers; resolves when every one has its tree and waits on /dev/fuse (or at the gate). */
  static async start(options: ServerOptions): Promise<FuseServer> {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new Error(`threads must be a positive integer, not ${options.threads}`);
    const server = new FuseServer(options);
    const watchdog = new TurnWatchdog(new Int32Array(server.control), options.threads);
    server.once('stopped', () => watchdog.stop());
    await Promise.all(Array.from({ length: options.threads }, (_, i) => server.spawn(i)));
    return server;
  }

  get threads(): number {
    return this.workers.size;
  }

  /** Called when the connection is going away on purpose: workers that end are not replaced. */
  markEnding(): void {
    this.ending = true;
  }

  /** A gated server takes what the previous one handed over, then its workers start reading. */
  open(state?: ConnectionState): void {
    if (state) {
      this.agreement = state.agreement;
      const store = new HandleStore(this.handles);
      for (const h of state.handles) store.adopt(h);
    }
    const c = new Int32Array(this.control);
    Atomics.store(c, Control.OPEN, 1);
    Atomics.notify(c, Control.OPEN);
  }

  /**
   * Stop taking requests without losing one: every worker answers the request in hand and ends. A
   * worker blocked in read(2) is woken by a request made for it (`wake`, once per worker; one that
   * finds every worker gone is answered by whoever serves next). Resolves with what the next server
   * needs. (FUSE_NOTIFY_RETRIEVE would be a request of the daemon's own, but the kernel takes it only
   * for a regular file whose inode it holds, which nothing guarantees.)
   */
  async drain(): Promise<ConnectionState> {
    this.ending = true;
    const c = new Int32Array(this.control);
    Atomics.store(c, Control.DRAIN, 1);
    closeTurns(c);
    const stopped = new Promise<void>((resolve) => (this.workers.size === 0 ? resolve() : this.once('stopped', () => resolve())));
    if (Atomics.load(c, Control.OPEN) === 0) {
      // never opened: the workers leave at the gate without reading
      Atomics.store(c, Control.OPEN, 1);
      Atomics.notify(c, Control.OPEN);
    } else {
      for (let i = 0; i < this.workers.size; i++) this.options.wake?.();
    }
    await stopped;
    return this.state();
  }

  /** What a server taking the connection over needs (meaningful once the workers are gone). */
  state(): ConnectionState {
    return { ...(this.agreement ? { agreement: this.agreement } : {}), time: this.time, handles: new HandleStore(this.handles).kept() };
  }

  private spawn(index: number): Promise<void> {
    const config: WorkerConfig = {
      index,
      threads: this.options.threads,
      fd: this.options.fd,
      spinFd: this.options.spinFd ?? -1,
      contentModule: this.options.contentModule,
      contentOptions: this.options.contentOptions ?? {},
      contentShared: this.options.contentShared ?? {},
      handles: this.handles,
      control: this.control,
      time: this.time,
      debug: this.options.debug ?? false,
      dispatcher: this.options.dispatcher ?? {},
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: config,
      ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}),
    });
    this.workers.set(index, worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      let exit: WorkerExit | undefined;
      worker.on('message', (m: { type: string; message?: unknown; init?: Agreement }) => {
        if (m.type === 'content') this.options.onContentMessage?.(m.message);
        else if (m.type === 'agreed') this.agreement = m.init;
        else if (m.type === 'ready') {
          ready = true;
          resolve();
        } else if (m.type === 'exit') exit = m as unknown as WorkerExit;
      });
      worker.on('error', (err) => {
        exit = { type: 'exit', index, reason: 'error', message: String(err?.stack ?? err) };
      });
      worker.on('exit', () => {
        this.workers.delete(index);
        // A worker that died polling: another takes the turn.
        giveUp(new Int32Array(this.control), index);
        if (!ready) {
          reject(new Error(`worker ${index} did not start: ${exit?.message ?? 'it exited'}`));
          return;
        }
        if (exit?.reason === 'error') logLine(`worker ${index} stopped: ${exit.message}`);
        // A worker that failed while the connection lives is replaced, a bounded number of times. The
        // request it held (an isolate ended at its heap limit, a crash) would never be answered, and its
        // reader would wait for ever: once the new worker reads, the kernel sends again every request taken
        // and not answered (FUSE_NOTIFY_RESEND, 6.9+). A live worker's reply to one of those then finds
        // it gone (ENOENT, ignored) and the request is served again: every request tsproc answers can be.
        if (exit?.reason === 'error' && !this.ending && this.restarts < 100) {
          this.restarts++;
          this.spawn(index)
            .then(() => import('./mount.js')) // not a static import: worker.ts imports this file, and needs none of it
            .then(({ resendUnanswered }) => {
              if (!this.ending && !resendUnanswered(this.options.fd))
                logLine(`worker ${index}: this kernel cannot send again the request it held (FUSE_NOTIFY_RESEND, Linux 6.9)`);
            })
            .catch((e: Error) => logLine(e.message));
          return;
        }
        if (exit?.reason === 'unmounted' || exit?.reason === 'destroyed') this.ending = true;
        if (this.workers.size === 0) this.emit('stopped', exit);
      });
    });
  }
}
