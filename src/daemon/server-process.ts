// The supervisor's handle on one serving process (server-main.ts): started from the code on disk with
// the connection as its fd 3 (and its non-blocking clone as fd 4), opened, drained or stopped over its IPC channel.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { TsprocError } from '../errors.js';
import type { FuseConnection } from '../../fs/mount.js';
import type { FromServer, ServeOptions, ToServer } from './server-main.js';

const ENTRY = fileURLToPath(new URL('./server-main.js', import.meta.url));

/**
 * V8's young generation grows to 16 MiB of semi-space per isolate under a steady stream of renders
 * (the main thread's and each worker's), resident for good once touched; renders keep next to nothing
 * alive, so 1 MiB is plenty: some 12 MiB less for the serving process under 64 readers.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'];

/**
 * Emits 'exit' (code, signal, expected) when the process ends; `expected` is false for one that
 * ended without being drained or stopped (a crash) or whose connection went away.
 */
/** The connection's descriptors a serving process gets: fd as its fd 3, spinFd (if any) as its fd 4. */
export type Descriptors = Pick<FuseConnection, 'fd' | 'spinFd'>;

export class ServerProcess extends EventEmitter {
  private readonly child: ChildProcess;
  private expected = false;
  private drained: ((handover: string) => void) | undefined;
  /** why the connection ended, when the server says so ('unmounted', 'destroyed') */
  stoppedReason: string | undefined;

  private constructor(fds: Descriptors) {
    super();
    // `--` before the file: nothing after it is Node's (docs/decisions.md). No argument is ours anyway.
    // The flags before it are ours: NODE_FLAGS (docs/benchmarks.md, "Memory").
    this.child = spawn(process.execPath, [...NODE_FLAGS, '--', ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit', fds.fd, fds.spinFd < 0 ? 'ignore' : fds.spinFd, 'ipc'],
      serialization: 'json',
    });
    this.child.on('message', (m: FromServer) => {
      if (m.type === 'drained') this.drained?.(m.handover);
      else if (m.type === 'stopped') this.stoppedReason = m.reason;
    });
    this.child.on('exit', (code, signal) => this.emit('exit', code, signal, this.expected || this.stoppedReason !== undefined));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Start one; resolves when its workers are ready (gated: waiting for `open`), rejects if it fails. */
  static start(fds: Descriptors, options: ServeOptions): Promise<ServerProcess> {
    const s = new ServerProcess(fds);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new TsprocError(`the serving process ${s.pid} ended before it was ready (${signal ?? `exit ${code}`})`, { code: 'ECHILD' }));
      s.child.once('exit', onExit);
      s.child.on('message', (m: FromServer) => {
        if (m.type === 'ready') {
          s.child.off('exit', onExit);
          resolve(s);
        } else if (m.type === 'failed') {
          s.child.off('exit', onExit);
          s.expected = true;
          reject(new TsprocError(`the serving process ${s.pid} failed to start: ${m.message}`, { code: 'ECHILD' }));
        }
      });
      s.post({ type: 'start', options: { ...options, spin: fds.spinFd >= 0 } });
    });
  }

  private post(m: ToServer): void {
    if (this.child.connected) this.child.send(m);
  }

  /** Let a gated server read, with what the previous one handed over. */
  open(handover?: string): void {
    this.post({ type: 'open', ...(handover ? { handover } : {}) });
  }

  /** Every request it took answered, its workers gone: resolves with its hand-over; it then exits. */
  drain(): Promise<string> {
    this.expected = true;
    return new Promise((resolve, reject) => {
      this.drained = resolve;
      this.child.once('exit', (code, signal) =>
        reject(new TsprocError(`the serving process ${this.pid} ended while draining (${signal ?? `exit ${code}`})`, { code: 'ECHILD' })),
      );
      this.post({ type: 'drain' });
    });
  }

  /** The connection is going away on purpose (unmount): its workers end when their reads do. */
  stop(): void {
    this.expected = true;
    this.post({ type: 'stop' });
  }

  /** Last resort, for a server that does not end after its connection was aborted. */
  kill(): void {
    this.expected = true;
    this.child.kill('SIGKILL');
  }

  /** Resolves when the process has ended. */
  exited(): Promise<void> {
    return this.child.exitCode !== null || this.child.signalCode !== null
      ? Promise.resolve()
      : new Promise((r) => this.child.once('exit', () => r()));
  }
}
