// Starting native/tsproc-helper (run or exec) and following its status channel (fd 3) to a result:
// the exit status, or the error for the step that failed. Our signals go to whoever forwards them.
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { TsprocError, wrapError } from '../src/errors.js';
import { exitStatus } from './exit-status.js';
import { cleanupWarning, failureError, type HelperEvent, parseEvent } from './helper-events.js';
import { testPoint } from './test-hooks.js';

export const HELPER = fileURLToPath(new URL('../../native/build/tsproc-helper', import.meta.url));

/** Refuse `run` and `exec` before anything is made where the helper was never built (no C compiler at npm install). */
export function requireHelper(helper = HELPER): void {
  if (existsSync(helper)) return;
  throw new TsprocError(
    `the runner's C helper ${helper} is not built: install a C compiler and libc headers (Debian: gcc libc6-dev), then run npm run build in the tsproc directory (the daemon, tsproc mount, needs neither)`,
    { code: 'ENOENT', path: helper, exitCode: 125 },
  );
}

/** Signals a foreground run or exec passes on. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export interface HelperRun {
  mode: 'run' | 'exec';
  configPath: string;
  stdio: StdioOptions;
  /** for messages: the command and the working directory in the container */
  command: string;
  cwd: string;
  describe(line: number): string | undefined;
  /** return at `started` (run -d) instead of waiting for the exit */
  detach: boolean;
  warn(message: string): void;
  /** the helper reported its monitor (run) */
  onMonitor?(pid: number): void;
}

export interface HelperResult {
  code: number;
  /** run: the monitor's pid, if it reported in */
  monitorPid?: number;
}

/** The channel's lines, as readline would give them (readline itself costs `run` some milliseconds to load). */
async function* lines(input: Readable): AsyncGenerator<string> {
  input.setEncoding('utf8');
  let rest = '';
  for await (const chunk of input as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== '') yield rest;
}

export async function runHelper(h: HelperRun): Promise<HelperResult> {
  const child = spawn(HELPER, [h.mode, h.configPath], { stdio: [...(h.stdio as unknown[]).slice(0, 3), 'pipe'] as StdioOptions });
  if (h.mode === 'run') testPoint('helper'); // started, and not yet reported in
  // run: signals go to the monitor (the container's parent); exec: to the helper (the command's)
  let target: number | undefined = h.mode === 'exec' ? child.pid : undefined;
  const pending: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => (target === undefined ? pending.push(sig) : process.kill(target, sig));
  if (!h.detach) for (const sig of FORWARDED) process.on(sig, forward);
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  let result: { code: number; message?: string } | undefined;
  let failure: TsprocError | undefined;
  let monitorPid: number | undefined;
  try {
    const channel = child.stdio[3] as Readable;
    const events = (async () => {
      for await (const line of lines(channel)) {
        const e: HelperEvent | undefined = parseEvent(line);
        if (e?.kind === 'monitor') {
          monitorPid = target = e.pid;
          h.onMonitor?.(e.pid);
          for (const sig of pending.splice(0)) process.kill(e.pid, sig);
        } else if (e?.kind === 'failed') failure = failureError(e, { describe: h.describe, command: h.command, cwd: h.cwd });
        else if (e?.kind === 'started' && h.detach) {
          result = { code: 0 };
          break; // the monitor goes on without us
        } else if (e?.kind === 'exit') result = exitStatus(e);
        else if (e?.kind === 'cleanup-failed') h.warn(cleanupWarning(e));
        else if (e?.kind === 'dropped')
          h.warn(
            `the reader of this output fell behind: ${e.bytes} bytes of the container's output were not shown here (tsproc logs has them)`,
          );
      }
    })();
    const err = await Promise.race([events.then(() => undefined), spawnError]);
    channel.destroy();
    if (err) throw wrapError(err, `cannot start the runner's helper ${HELPER} (npm install builds it)`, { exitCode: 125 });
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
  }
  if (failure) throw failure;
  if (!result) {
    const who =
      h.mode === 'exec'
        ? 'the exec helper'
        : monitorPid === undefined
          ? "the runner's helper"
          : `the container's monitor (pid ${monitorPid})`;
    throw new TsprocError(`${who} ended without reporting an exit status`, { exitCode: 125 });
  }
  if (result.message) h.warn(result.message);
  return { code: result.code, ...(monitorPid !== undefined ? { monitorPid } : {}) };
}
