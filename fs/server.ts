// Starts the worker threads that serve one FUSE connection, and knows when they have all stopped.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { DispatcherOptions } from './dispatcher.js';
import { logLine } from './log-line.js';
import { HandleStore, type HandleStoreShared } from './tree/handle-store.js';

export interface WorkerConfig {
  index: number;
  fd: number;
  /** file URL of a module exporting createFiles (see ContentModule in worker.ts) */
  contentModule: string;
  contentOptions: unknown;
  /** SharedArrayBuffers and the like, shared by all workers */
  contentShared: unknown;
  handles: HandleStoreShared;
  time: number;
  debug: boolean;
  dispatcher: Pick<DispatcherOptions, 'maxPages' | 'maxWrite' | 'validity'>;
}

export interface WorkerExit {
  type: 'exit';
  index: number;
  reason: 'unmounted' | 'destroyed' | 'error';
  message?: string;
}

export interface ServerOptions {
  fd: number;
  threads: number;
  contentModule: string;
  contentOptions?: unknown;
  contentShared?: unknown;
  /** messages the content module's `post` sends from a worker */
  onContentMessage?: (message: unknown) => void;
  debug?: boolean;
  dispatcher?: WorkerConfig['dispatcher'];
}

/** Emits 'stopped' once every worker has ended (the connection is gone). */
export class FuseServer extends EventEmitter {
  private readonly workers = new Map<number, Worker>();
  private readonly handles: HandleStoreShared = HandleStore.create();
  private readonly time = Math.floor(Date.now() / 1000);
  private ending = false;
  private restarts = 0;

  private constructor(private readonly options: ServerOptions) {
    super();
  }

  /** Start the workers; resolves when every one is waiting on /dev/fuse. */
  static async start(options: ServerOptions): Promise<FuseServer> {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error(`threads must be a positive integer, not ${options.threads}`);
    const server = new FuseServer(options);
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

  private spawn(index: number): Promise<void> {
    const config: WorkerConfig = {
      index,
      fd: this.options.fd,
      contentModule: this.options.contentModule,
      contentOptions: this.options.contentOptions ?? {},
      contentShared: this.options.contentShared ?? {},
      handles: this.handles,
      time: this.time,
      debug: this.options.debug ?? false,
      dispatcher: this.options.dispatcher ?? {},
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: config });
    this.workers.set(index, worker);
    return new Promise((resolve, reject) => {
      let ready = false;
      let exit: WorkerExit | undefined;
      worker.on('message', (m: { type: string; message?: unknown }) => {
        if (m.type === 'content') this.options.onContentMessage?.(m.message);
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
        if (!ready) {
          reject(new Error(`worker ${index} did not start: ${exit?.message ?? 'it exited'}`));
          return;
        }
        if (exit?.reason === 'error') logLine(`worker ${index} stopped: ${exit.message}`);
        // A worker that failed while the connection lives is replaced, a bounded number of times.
        if (exit?.reason === 'error' && !this.ending && this.restarts < 100) {
          this.restarts++;
          this.spawn(index).catch((e: Error) => logLine(e.message));
          return;
        }
        if (exit?.reason === 'unmounted' || exit?.reason === 'destroyed') this.ending = true;
        if (this.workers.size === 0) this.emit('stopped', exit);
      });
    });
  }
}
