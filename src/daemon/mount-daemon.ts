// `tsproc mount DIR`: the supervisor. It mounts (or takes a live connection over), holds /dev/fuse,
// runs the serving process (server-main.ts) on it, replaces that process on SIGHUP/SIGUSR1 (a reload:
// the code on disk, no read lost), hands the connection to a `--takeover` daemon, and on SIGTERM
// unmounts and ends. Its pid stays the same across reloads, which is what systemd tracks.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { abortConnection, closeConnection, mountFuse, resendUnanswered, type FuseConnection } from '../../fs/mount.js';
import { mountsAt, readMountinfo } from '../mountinfo.js';
import { logLine } from '../../fs/log-line.js';
import { hostLayout, type CgroupLayout } from '../cgroup-layout.js';
import { TsprocError, wrapError } from '../errors.js';
import type { ContentOptions } from './content.js';
import { listenControl } from './control-socket.js';
import { defaultThreads } from './descriptor-budget.js';
import { SUBTYPE, clearMountpoint, resolveDir, unmountOrAbort } from './mountpoint.js';
import { checkPidNamespace } from './pid-namespace.js';
import type { ServeOptions } from './server-main.js';
import { ServerProcess } from './server-process.js';
import { controlSocketPath, writeServingRecord } from './serving-record.js';
import { repairBinds } from './rebind.js';
import { takeOver } from './takeover.js';

export { SUBTYPE } from './mountpoint.js';

export interface DaemonOptions {
  dir: string;
  threads?: number;
  pidfile?: string;
  debug?: boolean;
  /** what the views show: --no-swap, --no-cpu-quota, --no-loadavg */
  content?: ContentOptions;
  /**
   * --stuck-timeout: a connection that gives no answer for this long is aborted, when this daemon
   * stops (SIGTERM) and when it finds one on DIR at start; nothing else ever aborts one
   */
  stuckTimeoutMs?: number;
  /** --takeover: take DIR's live connection over from the daemon serving it (a plain mount if none) */
  takeover?: boolean;
  /**
   * --stay-after-handover: once a --takeover daemon has the connection, stay (serving nothing, holding
   * nothing) until SIGTERM or SIGINT, then exit 0, instead of exiting at once: where an exit would be
   * restarted (a Kubernetes pod's container) and the restarted daemon would take the connection back
   */
  stayAfterHandover?: boolean;
  /** --allow-nested-pid-namespace: serve from a pid namespace other than the host's (a nested host) */
  allowNestedPidNamespace?: boolean;
  /** where the serving records and control sockets are (tests) */
  servingDir?: string;
}

export const DEFAULT_STUCK_TIMEOUT_MS = 10_000;
/** How often a serving daemon looks for the binds of another daemon's ended mount at DIR to repair. */
const REPAIR_EVERY_MS = 2000;
/** A serving process that crashes is replaced; past this many in a row the daemon gives up. */
const MAX_RESTARTS = 10;

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs until a signal, a hand-over or the connection's end; resolves with the process's exit status. */
export async function runMountDaemon(o: DaemonOptions): Promise<number> {
  // before anything is made or mounted: from a child pid namespace every reader would get the host's files
  const warning = checkPidNamespace(o.allowNestedPidNamespace ?? false);
  if (warning) logLine(warning);
  const dir = resolveDir(o.dir);
  const stuckMs = o.stuckTimeoutMs ?? DEFAULT_STUCK_TIMEOUT_MS;
  // The cgroup layout is read once, here, and handed to every serving process.
  let layout: CgroupLayout;
  try {
    layout = o.content?.layout ?? hostLayout();
  } catch (err) {
    throw wrapError(err, 'cannot tell the cgroup layout from /proc/self/mountinfo');
  }
  const serve = { threads: o.threads ?? defaultThreads(), debug: o.debug ?? false, content: { ...o.content, layout } };
  const taken = o.takeover ? await takeOver(dir, stuckMs, o.servingDir, serve) : undefined;
  if (taken) return supervise({ o, dir, stuckMs, serve, conn: taken.conn, time: taken.time, server: taken.server });
  await clearMountpoint(dir, stuckMs, o.servingDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw wrapError(err, `cannot create the mountpoint ${dir}`);
  }
  const conn = await mountFuse(dir, { subtype: SUBTYPE, fsname: SUBTYPE });
  const time = Math.floor(Date.now() / 1000);
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(conn, { ...serve, gated: false, time, mountpoint: dir, connection: conn.id });
  } catch (err) {
    await abortConnection(conn.id);
    await unmountOrAbort(dir, conn.id, stuckMs);
    closeConnection(conn);
    throw wrapError(err, 'cannot start serving');
  }
  // Containers still bound to a previous mount at DIR (a restart, a crash) read from this one again.
  await repairBinds(dir, o.servingDir, (c) => c !== conn.id).catch((err: Error) =>
    logLine(`repairing the binds of the previous mount: ${err.message}`),
  );
  return supervise({ o, dir, stuckMs, serve, conn, time, server });
}

interface Supervised {
  o: DaemonOptions;
  dir: string;
  stuckMs: number;
  serve: Omit<ServeOptions, 'gated' | 'time' | 'mountpoint' | 'connection'>;
  conn: FuseConnection;
  time: number;
  server: ServerProcess;
}

/** The mounts in any mount namespace that are binds of this connection (containers' /proc files). */
function bindsOf(id: number): number {
  let n = 0;
  const seen = new Set<string>();
  for (const pid of readdirSafe('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      const ns = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
      if (seen.has(ns)) continue;
      seen.add(ns);
      n += readMountinfo(`/proc/${pid}/mountinfo`).filter((e) => e.major === 0 && e.minor === id).length;
    } catch {
      // gone, or not ours to read
    }
  }
  return n;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function supervise(s: Supervised): Promise<number> {
  const { o, dir, stuckMs, conn } = s;
  let server: ServerProcess | undefined = s.server;
  let stopping = false;
  let handingOver = false;
  /** handed over with --stay-after-handover: a timer that keeps the process alive until SIGTERM, holding nothing else */
  let staying: NodeJS.Timeout | undefined;
  let reloading = false;
  let restarts = 0;
  let unmountedSeen = false;
  let control: Server | undefined;
  const socket = controlSocketPath(conn.id, o.servingDir);
  let forgetServing = () => {};
  const record = () => {
    try {
      forgetServing = writeServingRecord(
        { connection: conn.id, mountpoint: dir, fd: conn.fd, socket, server: server?.pid ?? 0, time: s.time, version: VERSION },
        o.servingDir,
      );
    } catch (err) {
      logLine(
        wrapError(err, 'cannot write the serving record (no takeover, and a stuck daemon cannot be told from a stopped one)').message,
      );
    }
  };

  return new Promise<number>((resolveExit) => {
    /** Let go of everything: the mountinfo watch, the control socket, the record, the pidfile, /dev/fuse. */
    const release = () => {
      clearInterval(watch);
      clearInterval(repairs);
      control?.close();
      rmSync(socket, { force: true });
      forgetServing();
      if (o.pidfile && readPid(o.pidfile) === process.pid) rmSync(o.pidfile, { force: true });
      closeConnection(conn);
    };
    const finish = (code: number) => {
      release();
      resolveExit(code);
    };

    /** The serving process ended: the connection's end, or a crash (replaced at once). */
    const watchServer = (p: ServerProcess) => {
      p.on('exit', (code: number | null, signal: string | null, expected: boolean) => {
        if (server !== p || stopping || handingOver) return;
        server = undefined;
        if (p.stoppedReason) {
          logLine(`the kernel ended the connection (${p.stoppedReason}): exiting`);
          finish(0);
          return;
        }
        if (expected) return;
        logLine(`the serving process ${p.pid} ended (${signal ?? `exit ${code}`}): starting another`);
        if (++restarts > MAX_RESTARTS) {
          logLine(`${MAX_RESTARTS} serving processes ended in a row: giving up`);
          void stop('too many restarts', true, 1);
          return;
        }
        void startServer(undefined).then(() => {
          // The requests it had taken and not answered: the kernel sends them again, or, where it
          // cannot (before 6.9), their readers would wait for ever: the connection is aborted instead.
          if (resendUnanswered(conn.fd)) logLine('requests the ended process had taken were sent again (FUSE_NOTIFY_RESEND)');
          else void stop('this kernel cannot send again what the ended process had taken (FUSE_NOTIFY_RESEND, Linux 6.9)', true, 1);
        });
      });
    };

    const startServer = async (handover: string | undefined) => {
      try {
        const next = await ServerProcess.start(conn, {
          ...s.serve,
          gated: handover !== undefined,
          time: s.time,
          mountpoint: dir,
          connection: conn.id,
        });
        if (stopping) {
          next.kill();
          return;
        }
        if (handover !== undefined) next.open(handover);
        server = next;
        watchServer(next);
        record();
      } catch (err) {
        logLine((err as Error).message);
        void stop('cannot start a serving process', true, 1);
      }
    };

    /** SIGHUP, SIGUSR1: a new serving process from the code on disk takes over from the current one. */
    let again = false;
    const reload = async (why: string): Promise<void> => {
      if (reloading) {
        again = true; // the code on disk may have changed since this reload began
        return;
      }
      if (stopping || handingOver || !server) return;
      reloading = true;
      logLine(`${why}: reloading`);
      const old = server;
      try {
        let next: ServerProcess;
        try {
          next = await ServerProcess.start(conn, { ...s.serve, gated: true, time: s.time, mountpoint: dir, connection: conn.id });
        } catch (err) {
          logLine(`reload failed, still serving with process ${old.pid}: ${(err as Error).message}`);
          return;
        }
        if (stopping || server !== old) {
          // stopped (or replaced after a crash) while the new process started: it is not needed
          next.kill();
          return;
        }
        let handover: string | undefined;
        try {
          handover = await old.drain();
        } catch (err) {
          logLine(`reload: ${(err as Error).message}; the new process starts afresh`);
        }
        server = next;
        next.open(handover);
        watchServer(next);
        record();
        restarts = 0;
        logLine(`reloaded: serving process ${old.pid} → ${next.pid}`);
      } finally {
        reloading = false;
        if (again) {
          again = false;
          void reload('another reload asked for meanwhile');
        }
      }
    };

    const stop = async (why: string, doUnmount: boolean, code = 0) => {
      if (stopping) return;
      stopping = true;
      logLine(`${why}: stopping`);
      const p = server;
      p?.stop();
      control?.close();
      // DIR may have been unmounted from outside already: the containers' binds are left to abort
      if (doUnmount && mountsAt(dir).some((e) => e.major === 0 && e.minor === conn.id)) await unmountOrAbort(dir, conn.id, stuckMs);
      if (p) {
        // Bind mounts of our files elsewhere (containers) keep the connection open after umount: abort it.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), 1000)));
        if (!(await Promise.race([p.exited().then(() => true), late]))) {
          await abortConnection(conn.id);
          const end = new Promise<false>((r) => (timer = setTimeout(() => r(false), stuckMs)));
          if (!(await Promise.race([p.exited().then(() => true), end]))) p.kill();
          await p.exited();
        }
        clearTimeout(timer);
      }
      finish(code);
    };

    watchServer(s.server);
    record();
    listenControl(socket, {
      release: async () => {
        if (!server || stopping || reloading)
          throw new TsprocError(stopping ? 'the daemon is stopping' : 'the daemon is busy (a reload)', { code: 'EBUSY' });
        handingOver = true;
        const p = server;
        server = undefined;
        try {
          return await p.drain();
        } catch (err) {
          handingOver = false;
          void startServer(undefined);
          throw err;
        }
      },
      retire: () => {
        if (o.stayAfterHandover) {
          logLine(`handed ${dir} (connection ${conn.id}) over: staying until SIGTERM (--stay-after-handover)`);
          release();
          staying = setInterval(() => undefined, 3_600_000); // signal listeners alone keep no process alive
          return;
        }
        logLine(`handed ${dir} (connection ${conn.id}) over: exiting`);
        finish(0);
      },
      resume: (handover) => {
        logLine('the daemon taking over went away before it served: serving again');
        handingOver = false;
        void startServer(handover);
      },
    }).then(
      (srv) => (control = srv),
      (err: Error) => logLine(`${err.message}: no takeover of this daemon is possible`),
    );
    if (o.pidfile) {
      try {
        writeFileSync(o.pidfile, `${process.pid}\n`);
      } catch (err) {
        logLine(wrapError(err, `cannot write the pidfile ${o.pidfile}`).message);
      }
    }

    // After a hand-over DIR is the new daemon's: a stop then touches nothing (no unmount), it only ends.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.on(sig, () => {
        if (!staying) return void stop(`got ${sig}`, true);
        logLine(`got ${sig}: exiting`);
        clearInterval(staying);
        resolveExit(0);
      });
    }
    // systemctl reload sends lxcfs SIGUSR1; SIGHUP is the usual reload. SIGUSR1 never opens Node's
    // inspector whatever listeners come and go: the bin holds it first (src/inspector-signal.ts).
    for (const sig of ['SIGHUP', 'SIGUSR1'] as const) process.on(sig, () => void reload(`got ${sig}`));
    // An outside `umount DIR` leaves the containers' binds of our files: they are served on, and the
    // daemon ends when the last goes (the kernel ends the connection then).
    const watch = setInterval(() => {
      if (unmountedSeen || stopping || handingOver) return;
      if (!mountsAt(dir).some((e) => e.minor === conn.id && e.major === 0)) {
        unmountedSeen = true;
        logLine(
          `${dir} was unmounted from outside: still serving the ${bindsOf(conn.id)} bind mounts of its files; SIGTERM stops the daemon`,
        );
      }
    }, 1000);
    // Another daemon that served DIR before may end while this one serves (one that went on serving
    // its binds after an outside umount): its connections are repaired as they end. Each once: a
    // repaired connection's dead binds stay below the new ones until their containers end.
    const repairedBefore = new Set<number>([conn.id]);
    let repairing = false;
    const repairs = setInterval(() => {
      if (repairing || stopping || handingOver) return;
      repairing = true;
      void repairBinds(dir, o.servingDir, (c) => !repairedBefore.has(c))
        .then((r) => r.connections.forEach((c) => repairedBefore.add(c)))
        .catch((err: Error) => logLine(`repairing the binds of an ended mount: ${err.message}`))
        .finally(() => (repairing = false));
    }, REPAIR_EVERY_MS);
    repairs.unref();
    // Only now, with the signal handlers in place: whoever waits for this line may signal at once.
    const c = s.serve.content;
    const shown = [
      c.swap === false ? 'no swap' : 'swap',
      c.cpuQuota === false ? 'no CPU quota' : 'CPU quota',
      c.loadavg === false ? 'no loadavg' : 'loadavg',
    ];
    logLine(
      `serving ${dir} (connection ${conn.id}, ${s.serve.threads} worker threads, pid ${process.pid}, serving process ${s.server.pid}; cgroup ${c.layout!.kind}; ${shown.join(', ')})`,
    );
  });
}

function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}
