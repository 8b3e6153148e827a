// Runs one host command for the VM harness; a failure names the command and quotes its stderr.
import { spawnSync } from 'node:child_process';
import { TsprocError, wrapError } from '../../src/errors.js';

export interface CommandOptions {
  cwd?: string;
  input?: Buffer;
  /** a file descriptor to write stdout to (then the result is '') */
  stdoutFd?: number;
  env?: NodeJS.ProcessEnv;
}

/** Run cmd to completion and return its stdout; throw a TsprocError on a non-zero exit. */
export function command(cmd: string, args: string[], opts: CommandOptions = {}): string {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    input: opts.input,
    env: opts.env,
    stdio: ['pipe', opts.stdoutFd ?? 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const line = [cmd, ...args].join(' ');
  if (r.error) throw wrapError(r.error, `\`${line}\``);
  if (r.status !== 0) {
    const stderr = r.stderr.toString().trim().split('\n').slice(-10).join('\n');
    throw new TsprocError(`\`${line}\` exited ${r.status ?? `on ${r.signal}`}${stderr ? `:\n${stderr}` : ''}`);
  }
  return r.stdout ? r.stdout.toString() : '';
}
