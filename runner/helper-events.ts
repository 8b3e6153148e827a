// The helper's status channel (fd 3), one event a line, and the words for what it reports.
import { constants } from 'node:os';
import { describeCode, TsprocError } from '../src/errors.js';
import { unescapeField } from './helper-config.js';

export type HelperEvent =
  | { kind: 'monitor'; pid: number }
  | { kind: 'started'; pid: number }
  /** the container failed before its command ran: the step, errno, and the plan line (0: none) */
  | { kind: 'failed'; step: string; errno: number; line: number }
  | { kind: 'exit'; how: 'code' | 'signal'; value: number; oomKills: number }
  | { kind: 'cleanup-failed'; step: string; errno: number; path: string }
  /** the CLI's reader fell behind: this much output was not shown (the log has it) */
  | { kind: 'dropped'; bytes: number };

export function parseEvent(line: string): HelperEvent | undefined {
  const f = line.split(' ');
  const n = (i: number) => Number(f[i]);
  switch (f[0]) {
    case 'monitor':
    case 'started':
      return f.length === 2 ? { kind: f[0], pid: n(1) } : undefined;
    case 'failed':
      return f.length === 4 ? { kind: 'failed', step: f[1]!, errno: n(2), line: n(3) } : undefined;
    case 'exit':
      return f.length === 4 && (f[1] === 'code' || f[1] === 'signal') ? { kind: 'exit', how: f[1], value: n(2), oomKills: n(3) } : undefined;
    case 'dropped':
      return f.length === 2 ? { kind: 'dropped', bytes: n(1) } : undefined;
    case 'cleanup-failed':
      return f.length === 4 ? { kind: 'cleanup-failed', step: f[1]!, errno: n(2), path: unescapeField(f[3]!) } : undefined;
  }
  return undefined;
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, num]) => [num, name]));

export function errnoCode(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** What each step of the helper was doing, when the plan line does not say. */
const STEPS: Record<string, string> = {
  config: 'the helper cannot read its plan',
  fork: 'cannot start the monitor',
  'close-fds': 'cannot close the descriptors the container must not inherit',
  dumpable: 'cannot make the command\'s process non-dumpable',
  stdio: 'cannot set up the command\'s stdin, stdout and stderr',
  'pid-namespace': 'cannot create the PID namespace',
  pipe: 'cannot create the monitor\'s pipes',
  sync: 'cannot signal the container to go on',
  wait: 'cannot wait for the container',
  unshare: 'cannot create the container\'s namespaces',
  private: 'cannot make the mount tree private',
  'open-root': 'cannot open the root filesystem',
  'pivot-root': 'cannot pivot_root into the root filesystem',
  'detach-old-root': 'cannot detach the old root',
  'readonly-root': 'cannot make the root read-only',
  hostname: 'cannot set the hostname',
  tty: 'cannot set up the pseudo-terminal (-t)',
  loopback: 'cannot bring up the loopback interface',
  caps: 'cannot set the capabilities',
  setgroups: 'cannot set the supplementary groups',
  setgid: 'cannot set the group id',
  setuid: 'cannot set the user id',
  'no-new-privs': 'cannot set no_new_privs',
  pdeathsig: 'cannot set the parent-death signal',
  'init-fork': 'the init cannot start the command',
  seccomp: 'cannot install the seccomp filter (--security-opt seccomp=)',
  'seccomp-listener': 'cannot hand the seccomp listener to the container\'s monitor (the profile must allow sendmsg and close)',
  sysinfo: 'cannot set up the monitor\'s sysinfo socket (--lxcfs)',
  'sysinfo-connect': 'cannot reach the container\'s monitor through its sysinfo socket (--lxcfs)',
};

/** A set-up step the helper reported failed (the monitor cleans up after it), as against a helper that died. */
export class HelperFailure extends TsprocError {}

/** The error for a `failed` event: exit status 127 for a missing command, 126 for one that cannot run, else 125. */
export function failureError(e: Extract<HelperEvent, { kind: 'failed' }>, ctx: { describe(line: number): string | undefined; command: string; cwd: string }): HelperFailure {
  const code = errnoCode(e.errno);
  const why = `${code} (${describeCode(code)})`;
  if (e.step === 'exec') {
    const notFound = code === 'ENOENT' || code === 'ENOTDIR';
    return new HelperFailure(notFound ? `${ctx.command}: executable file not found in the container (PATH or the path given)` : `${ctx.command}: cannot be executed: ${why}`, {
      code,
      syscall: 'execve',
      path: ctx.command,
      exitCode: notFound ? 127 : 126,
    });
  }
  if (e.step === 'cwd') return new HelperFailure(`cannot change to the working directory ${ctx.cwd}: ${why}`, { code, syscall: 'chdir', path: ctx.cwd, exitCode: 125 });
  const what = (e.line > 0 ? ctx.describe(e.line) : undefined) ?? STEPS[e.step] ?? `step ${e.step} failed`;
  const doing = e.line > 0 && ctx.describe(e.line) ? `cannot ${what}` : what;
  // a mount point or working directory the root lacks, in a root that takes no new paths
  const hint = code === 'EROFS' && (e.step === 'mkdir' || e.step === 'file') ? ': the root is read-only (--read-only, which gives an image no writable layer, or a read-only filesystem), so it must already be in it' : '';
  return new HelperFailure(`${doing}: ${why}${hint}`, { code, syscall: e.step, exitCode: 125 });
}
