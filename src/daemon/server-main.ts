// The serving process of a mount: FUSE worker threads and the load sampler on the connection it
// inherits as fd 3. The supervisor (mount-daemon.ts) starts it, opens it, drains it for a reload or a
// takeover and stops it, over the IPC channel; it never mounts or unmounts anything itself.
import { spawn } from 'node:child_process';
import { holdInspectorSignal } from '../inspector-signal.js';
import { logLine } from '../../fs/log-line.js';
import { FuseServer } from '../../fs/server.js';
import { createDriver } from './cgroup/create-driver.js';
import { DescriptorCache } from './io/file-source.js';
import { LoadSampler } from './loadavg/sampler.js';
import { LoadTable } from './loadavg/table.js';
import type { ContentOptions, ContentShared } from './content.js';
import { descriptorBudget, WORKER_OLD_GENERATION_MB } from './descriptor-budget.js';
import { decodeHandover, encodeHandover } from './handover.js';
import { OnceSet } from './once-set.js';
import { wakePath } from './wake-path.js';

/** The connection's descriptor in this process. */
export const FUSE_FD = 3;
/** The connection's non-blocking clone, when the supervisor could make one (ServeOptions.spin). */
export const SPIN_FD = 4;

/** What the supervisor starts a server with (plain data). */
export interface ServeOptions {
  threads: number;
  debug: boolean;
  /** the views' options, the layout included */
  content: ContentOptions;
  /** the nodes' time, the same in every server of a connection */
  time: number;
  /** wait for `open` before reading (a server that takes a connection over) */
  gated: boolean;
  /** where the connection is mounted, and its number: how a drain makes requests to wake its workers */
  mountpoint: string;
  connection: number;
  /** fd 4 is a non-blocking clone of the connection, for the workers' poller (fs/poller.ts) */
  spin?: boolean;
}

export type ToServer =
  { type: 'start'; options: ServeOptions } | { type: 'open'; handover?: string } | { type: 'drain' } | { type: 'stop' };
export type FromServer =
  { type: 'ready' } | { type: 'drained'; handover: string } | { type: 'stopped'; reason: string } | { type: 'failed'; message: string };

function send(m: FromServer): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));
}

async function serve(o: ServeOptions): Promise<void> {
  const budget = descriptorBudget(o.threads);
  const content: ContentOptions = { descriptors: budget.worker, containers: budget.containers, ...o.content };
  const shared: ContentShared = { once: OnceSet.create() };
  let sampler: LoadSampler | undefined;
  if (content.loadavg !== false) {
    shared.loadavg = LoadTable.create();
    const files = new DescriptorCache({ capacity: budget.sampler });
    sampler = new LoadSampler({
      table: shared.loadavg,
      files,
      driver: createDriver({ files, layout: content.layout! }),
      ...(content.procRoot ? { procRoot: content.procRoot } : {}),
      log: logLine,
    });
  }
  const server = await FuseServer.start({
    fd: FUSE_FD,
    spinFd: o.spin ? SPIN_FD : -1,
    threads: o.threads,
    contentModule: new URL('./content.js', import.meta.url).href,
    contentOptions: content,
    contentShared: shared,
    ...(sampler ? { onContentMessage: (m: unknown) => sampler.handle(m) } : {}),
    debug: o.debug,
    time: o.time,
    gated: o.gated,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB },
    wake: () => {
      const path = wakePath(o.mountpoint, o.connection);
      // a stat(1) of our own file is a GETATTR (files' attributes are never cached): one request
      if (path) spawn('stat', ['-L', '-c', '%s', path], { stdio: 'ignore' }).unref();
      else logLine('drain: no path to the connection left to wake a worker with');
    },
  });
  let draining = false;
  server.once('stopped', (exit?: { reason?: string }) => {
    if (draining) return;
    sampler?.stop();
    void send({ type: 'stopped', reason: exit?.reason ?? 'unmounted' }).then(() => process.exit(0));
  });
  if (!o.gated) sampler?.start();
  process.on('message', (m: ToServer) => {
    if (m.type === 'open') {
      const handover = m.handover ? decodeHandover(m.handover) : undefined;
      if (handover) sampler?.adopt(handover.loads);
      server.open(handover?.connection);
      sampler?.start();
    } else if (m.type === 'drain' && !draining) {
      draining = true;
      void server.drain().then(async (connection) => {
        sampler?.stop();
        await send({ type: 'drained', handover: encodeHandover({ connection, loads: sampler?.kept() ?? [] }) });
        process.exit(0);
      });
    } else if (m.type === 'stop') server.markEnding();
  });
  await send({ type: 'ready' });
}

holdInspectorSignal();
// The supervisor decides when to stop: a terminal's Ctrl-C or systemd's SIGTERM to the whole group
// reaches it too, and it ends this process in order (unmount, then the workers' reads end).
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
// Without its supervisor nobody can stop or replace it: end (the next `tsproc mount` repairs the rest).
process.on('disconnect', () => {
  logLine(`server ${process.pid}: the supervisor is gone: exiting`);
  process.exit(1);
});
process.once('message', (m: ToServer) => {
  if (m.type !== 'start') return;
  serve(m.options).catch(async (err: unknown) => {
    await send({ type: 'failed', message: String((err as Error)?.stack ?? err) });
    process.exit(1);
  });
});
