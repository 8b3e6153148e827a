// A worker thread's loop: a blocking read of one request from /dev/fuse, dispatch, one write of the reply.
import { readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Dispatcher, bufferSizes, type DispatcherOptions } from './dispatcher.js';
import { logLine } from './log-line.js';
import { HandleStore } from './tree/handle-store.js';
import { VirtualTree, type FileSpec } from './tree/virtual-tree.js';
import { Control, type WorkerConfig, type WorkerExit } from './server.js';

/**
 * What a content module exports: the files of the tree, made in each worker from plain options and
 * shared memory; `post` sends a message to the main thread's `onContentMessage` (fs/ never reads it).
 */
export interface ContentModule {
  createFiles(options: unknown, shared: unknown, post: (message: unknown) => void): FileSpec[] | Promise<FileSpec[]>;
}

async function main(config: WorkerConfig): Promise<WorkerExit> {
  const content = (await import(config.contentModule)) as ContentModule;
  const post = (message: unknown) => parentPort!.postMessage({ type: 'content', index: config.index, message });
  const files = await content.createFiles(config.contentOptions, config.contentShared, post);
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
  const control = new Int32Array(config.control);
  parentPort!.postMessage({ type: 'ready', index: config.index });
  // A server started to take a connection over waits here until the one before it has let go.
  while (Atomics.load(control, Control.OPEN) === 0) Atomics.wait(control, Control.OPEN, 0);

  for (;;) {
    // Draining (a reload or a takeover): every request this worker took was answered; take no more.
    if (Atomics.load(control, Control.DRAIN) !== 0) return { type: 'exit', index: config.index, reason: 'drained' };
    let n: number;
    try {
      n = readSync(config.fd, inBuf, 0, inBuf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: the request was interrupted before we read it; EINTR/EAGAIN: try again.
      if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') continue;
      // ENODEV: the filesystem was unmounted or the connection aborted.
      if (code === 'ENODEV') return { type: 'exit', index: config.index, reason: 'unmounted' };
      return { type: 'exit', index: config.index, reason: 'error', message: `read /dev/fuse: ${(err as Error).message}` };
    }
    const outLen = dispatcher.dispatch(inBuf, n, outBuf);
    if (outLen > 0) {
      try {
        writeSync(config.fd, outBuf, 0, outLen);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOENT: the caller gave up (interrupted) before the reply; nothing to do.
        if (code === 'ENODEV') return { type: 'exit', index: config.index, reason: 'unmounted' };
        if (code !== 'ENOENT') logLine(`${tag}: write /dev/fuse: ${(err as Error).message}`);
      }
    }
    if (dispatcher.destroyed) return { type: 'exit', index: config.index, reason: 'destroyed' };
  }
}

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
