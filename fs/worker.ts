// A worker thread's loop: one request from /dev/fuse when it has the turn (fs/poller.ts), dispatch, one
// write of the reply.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Dispatcher, bufferSizes, type DispatcherOptions } from './dispatcher.js';
import { logLine } from './log-line.js';
import { Poller, type Taken } from './poller.js';
import { Opcode } from './protocol/kernel.js';
import { HandleStore } from './tree/handle-store.js';
import { VirtualTree, type FileSpec } from './tree/virtual-tree.js';
import { Control, type WorkerConfig, type WorkerExit } from './server.js';

/**
 * What a content module exports: the files of the tree, made in each worker from plain options and
 * shared memory; `post` sends a message to the main thread's `onContentMessage` (fs/ never reads it).
 */
export interface ContentModule {
  createFiles(options: unknown, shared: unknown, post: (message: unknown) => void, hooks: ContentHooks): FileSpec[] | Promise<FileSpec[]>;
}

/** What the worker offers its content module besides `post`. */
export interface ContentHooks {
  /** about to do what may take long (a reader not seen before): another worker takes requests meanwhile */
  slow(): void;
}

async function main(config: WorkerConfig): Promise<WorkerExit> {
  const content = (await import(config.contentModule)) as ContentModule;
  const post = (message: unknown) => parentPort!.postMessage({ type: 'content', index: config.index, message });
  const control = new Int32Array(config.control);
  const poller = new Poller({ fd: config.fd, spinFd: config.spinFd, control, index: config.index, threads: config.threads });
  const files = await content.createFiles(config.contentOptions, config.contentShared, post, { slow: () => poller.giveTurn() });
  const tag = `worker ${config.index}`;
  const tree = new VirtualTree(files, new HandleStore(config.handles), { time: config.time, warn: (m) => logLine(`${tag}: ${m}`) });
  const options: DispatcherOptions = {
    ...config.dispatcher,
    error: (m) => logLine(`${tag}: ${m}`),
    agreed: (init) => parentPort!.postMessage({ type: 'agreed', index: config.index, init }),
    ...(config.debug ? { debug: (m: string) => logLine(`${tag}: ${m}`) } : {}),
  };
  const dispatcher = new Dispatcher(tree, options);
  const sizes = bufferSizes(options);
  const inBuf = Buffer.alloc(sizes.request);
  const outBuf = Buffer.alloc(sizes.reply);
  parentPort!.postMessage({ type: 'ready', index: config.index });
  // A server started to take a connection over waits here until the one before it has let go.
  while (Atomics.load(control, Control.OPEN) === 0) Atomics.wait(control, Control.OPEN, 0);

  const draining = () => Atomics.load(control, Control.DRAIN) !== 0;
  try {
    return serve(config, poller, dispatcher, inBuf, outBuf, draining, tag);
  } finally {
    poller.giveTurn();
  }
}

function serve(
  config: WorkerConfig,
  poller: Poller,
  dispatcher: Dispatcher,
  inBuf: Buffer,
  outBuf: Buffer,
  draining: () => boolean,
  tag: string,
): WorkerExit {
  for (;;) {
    // Draining (a reload or a takeover): every request this worker took was answered; take no more.
    let taken: Taken | undefined;
    try {
      taken = poller.take(inBuf, draining);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: the request was interrupted before we read it; EINTR/EAGAIN: try again.
      if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') continue;
      // ENODEV: the filesystem was unmounted or the connection aborted.
      if (code === 'ENODEV') return { type: 'exit', index: config.index, reason: 'unmounted' };
      return { type: 'exit', index: config.index, reason: 'error', message: `read /dev/fuse: ${(err as Error).message}` };
    }
    if (!taken) return { type: 'exit', index: config.index, reason: 'drained' };
    // A render may wait on the kernel (a /proc or cgroup file): the watchdog hands the turn on if it does.
    const busy = taken.length >= 8 && MAY_BLOCK.has(inBuf.readUInt32LE(4));
    if (busy) poller.beginBusy();
    const outLen = dispatcher.dispatch(inBuf, taken.length, outBuf);
    if (busy) poller.endBusy();
    if (outLen > 0) {
      try {
        writeSync(taken.fd, outBuf, 0, outLen);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOENT: the caller gave up (interrupted) before the reply; nothing to do.
        if (code === 'ENODEV') return { type: 'exit', index: config.index, reason: 'unmounted' };
        if (code !== 'ENOENT') logLine(`${tag}: write /dev/fuse: ${(err as Error).message}`);
      }
    }
    if (dispatcher.destroyed) return { type: 'exit', index: config.index, reason: 'destroyed' };
    poller.replied();
  }
}

/** The requests whose answer is rendered (OPEN, a stat's GETATTR): the rest are answered from memory. */
const MAY_BLOCK = new Set<number>([Opcode.OPEN, Opcode.GETATTR]);

main(workerData as WorkerConfig).then(
  (exit) => parentPort!.postMessage(exit),
  (err: unknown) =>
    parentPort!.postMessage({
      type: 'exit',
      index: (workerData as WorkerConfig).index,
      reason: 'error',
      message: String((err as Error)?.stack ?? err),
    } satisfies WorkerExit),
);
