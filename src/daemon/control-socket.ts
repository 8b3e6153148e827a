// The supervisor's control socket (/run/tsproc/serving/ID.sock): a daemon taking the connection over
// asks for the hand-over on it. One JSON object a line: {"type":"handover"} → {"type":"state",...} or
// {"type":"error",...}; then {"type":"done"} when the new daemon serves, or the socket just closes.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TsprocError } from '../errors.js';

/** What the supervisor does for a hand-over: drain, then either retire (done) or serve on (abandoned). */
export interface HandoverSide {
  /** drain the serving process; resolves with its hand-over */
  release(): Promise<string>;
  /** the new daemon serves: end without unmounting */
  retire(): void;
  /** the new daemon went away before it served: serve again, from the hand-over */
  resume(handover: string): void;
}

function lines(sock: Socket, onLine: (m: { type?: string; handover?: string; message?: string }) => void): void {
  createInterface({ input: sock }).on('line', (line) => {
    try {
      onLine(JSON.parse(line) as { type?: string });
    } catch {
      sock.destroy();
    }
  });
}

/** Listen on `path` (replacing a stale socket file); one hand-over at a time. */
export function listenControl(path: string, side: HandoverSide): Promise<Server> {
  let busy = false;
  const server = createServer((sock) => {
    let mine = false;
    let handover: string | undefined;
    let done = false;
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (!mine) return;
      busy = false;
      if (!done && handover !== undefined) side.resume(handover);
    });
    lines(sock, (m) => {
      if (m.type === 'done' && mine && handover !== undefined && !done) {
        done = true;
        side.retire();
        return;
      }
      if (m.type !== 'handover' || busy) {
        sock.end(
          `${JSON.stringify({ type: 'error', message: busy ? 'a hand-over is already under way' : `unexpected request ${String(m.type)}` })}\n`,
        );
        return;
      }
      busy = mine = true;
      side.release().then(
        (h) => {
          handover = h;
          sock.write(`${JSON.stringify({ type: 'state', handover: h })}\n`);
        },
        (err: Error) => sock.end(`${JSON.stringify({ type: 'error', message: err.message })}\n`),
      );
    });
  });
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new TsprocError(`cannot listen on ${path}: ${err.message}`, { path, syscall: 'bind', cause: err })),
    );
    server.listen(path, () => resolve(server));
  });
}

/** The daemon serving a connection hands it over: resolves with its hand-over and how to say done. */
export function requestHandover(path: string, timeoutMs: number): Promise<{ handover: string; done(): void; abandon(): void }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new TsprocError(`the daemon at ${path} gave no hand-over in ${timeoutMs / 1000} s`, { path, code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(
        new TsprocError(`cannot reach the daemon's control socket ${path}: ${err.message}`, {
          path,
          syscall: 'connect',
          code: (err as NodeJS.ErrnoException).code,
          cause: err,
        }),
      );
    });
    lines(sock, (m) => {
      clearTimeout(timer);
      if (m.type === 'state' && typeof m.handover === 'string') {
        resolve({ handover: m.handover, done: () => sock.end(`${JSON.stringify({ type: 'done' })}\n`), abandon: () => sock.destroy() });
      } else reject(new TsprocError(`the daemon refused the hand-over: ${m.message ?? 'no reason given'}`, { path, code: 'EBUSY' }));
    });
    sock.write(`${JSON.stringify({ type: 'handover', pid: process.pid })}\n`);
  });
}
