// The helper's status channel (fd 3), one event a line, and the words for what it reports.
import { describeCode, errnoName, TsprocError } from '../src/errors.js';
import { unescapeField } from './helper-config.js';

export type HelperEvent =
  | { kind: 'monitor'; pid: number }
  | { kind: 'started'; pid: number }
  /** the container failed before its command ran: the step, errno, and the config line (0: none) */
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
      return f.length === 4 && (f[1] === 'code' || f[1] === 'signal')
        ? { kind: 'exit', how: f[1], value: n(2), oomKills: n(3) }
        : undefined;
    case 'dropped':
      return f.length === 2 ? { kind: 'dropped', bytes: n(1) } : undefined;
    case 'cleanup-failed':
      return f.length === 4 ? { kind: 'cleanup-failed', step: f[1]!, errno: n(2), path: unescapeField(f[3]!) } : undefined;
  }
  return undefined;
}

export function errnoCode(errno: number): string {
  return errnoName(errno) ?? `errno ${errno}`;
}

/** What each step of the helper was doing, when the config line does not say: one entry per name in
 *  native/steps.h, in its order (test/runner/helper-steps.test.ts holds the two lists equal). */
const STEPS: Record<string, string> = {
  // tsproc-helper
  'close-fds': 'cannot close the descriptors the container must not inherit (close_range)',
  config: 'the helper cannot read its config',
  fork: 'cannot start a process (fork)',
  // the monitor
  'pid-namespace': 'cannot create the PID namespace (unshare CLONE_NEWPID)',
  pipe: "cannot create the monitor's pipes",
  log: "cannot open the container's log",
  sysinfo: "cannot set up the monitor's sysinfo socket (--lxcfs)",
  devices: 'cannot refuse the container other devices (the cgroup2 BPF device filter)',
  cgroup: "cannot put the process in the container's cgroups",
  sync: 'cannot signal the container to go on',
  // the container's first process
  dumpable: "cannot make the container's process non-dumpable",
  pdeathsig: 'cannot set the parent-death signal',
  stdio: "cannot set up the command's stdin, stdout and stderr",
  unshare: "cannot create the container's namespaces (unshare)",
  private: 'cannot make the mount tree private',
  prepare: 'cannot mount the root filesystem',
  'open-root': 'cannot open the root filesystem',
  mkdir: 'cannot create a directory in the root filesystem',
  file: 'cannot create a mount point in the root filesystem',
  symlink: 'cannot create a symbolic link in the root filesystem',
  mount: 'cannot mount a filesystem in the container',
  remount: "cannot change a mount's flags in the container",
  mask: 'cannot mask a path in the container',
  readonly: 'cannot make a path in the container read-only',
  'pivot-root': 'cannot pivot_root into the root filesystem',
  'detach-old-root': 'cannot detach the old root',
  'readonly-root': 'cannot make the root read-only',
  tty: 'cannot set up the pseudo-terminal (-t)',
  hostname: 'cannot set the hostname',
  loopback: 'cannot bring up the loopback interface',
  // it and exec's command
  seccomp: 'cannot install the seccomp filter (--security-opt seccomp=)',
  'seccomp-listener': "cannot hand the seccomp listener to the container's monitor (the profile must allow sendmsg and close)",
  caps: 'cannot set the capabilities',
  setgroups: 'cannot set the supplementary groups',
  setgid: 'cannot set the group id',
  setuid: 'cannot set the user id',
  cwd: 'cannot change to the working directory',
  'no-new-privs': 'cannot set no_new_privs',
  'init-fork': 'the init cannot start the command',
  exec: 'cannot execute the command',
  // tsproc exec
  'open-namespace': "cannot open the container's namespaces (is it still running?)",
  'sysinfo-connect': "cannot reach the container's monitor through its sysinfo socket (--lxcfs)",
  setns: "cannot join the container's namespaces (setns)",
};

/** The step names the helper reports, in native/steps.h's order. */
export const STEP_NAMES: readonly string[] = Object.keys(STEPS);

/** What each cleanup step of the monitor was doing (a `cleanup-failed STEP ERRNO PATH` event): one
 *  entry per name in native/steps.h's TSPROC_CLEANUP_STEPS, in its order (helper-steps.test.ts). */
const CLEANUP_STEPS: Record<string, string> = {
  umount: 'cannot unmount',
  rmdir: "cannot remove the container's cgroup",
  unlink: "cannot release the container's name",
  remove: 'cannot remove',
  record: 'cannot write',
  setns: "the monitor cannot return to its own namespace (sysinfo's reader)",
};

/** The cleanup step names the monitor reports, in native/steps.h's order. */
export const CLEANUP_STEP_NAMES: readonly string[] = Object.keys(CLEANUP_STEPS);

/** The warning for a `cleanup-failed` event: `cannot remove the container's cgroup /sys/...: EBUSY (...)`. */
export function cleanupWarning(e: Extract<HelperEvent, { kind: 'cleanup-failed' }>): string {
  const code = errnoCode(e.errno);
  const what = Object.hasOwn(CLEANUP_STEPS, e.step) ? CLEANUP_STEPS[e.step] : `the cleanup step ${e.step} failed on`;
  return `cleaning up after the container: ${what} ${e.path}: ${code} (${describeCode(code)})`;
}

/** A set-up step the helper reported failed (the monitor cleans up after it), as against a helper that died. */
export class HelperFailure extends TsprocError {}

/** The error for a `failed` event: exit status 127 for a missing command, 126 for one that cannot run, else 125. */
export function failureError(
  e: Extract<HelperEvent, { kind: 'failed' }>,
  ctx: { describe(line: number): string | undefined; command: string; cwd: string },
): HelperFailure {
  const code = errnoCode(e.errno);
  const why = `${code} (${describeCode(code)})`;
  if (e.step === 'exec') {
    const notFound = code === 'ENOENT' || code === 'ENOTDIR';
    return new HelperFailure(
      notFound
        ? `${ctx.command}: executable file not found in the container (PATH or the path given)`
        : `${ctx.command}: cannot be executed: ${why}`,
      {
        code,
        syscall: 'execve',
        path: ctx.command,
        exitCode: notFound ? 127 : 126,
      },
    );
  }
  if (e.step === 'cwd')
    return new HelperFailure(`cannot change to the working directory ${ctx.cwd}: ${why}`, {
      code,
      syscall: 'chdir',
      path: ctx.cwd,
      exitCode: 125,
    });
  if (e.step === 'config' && e.line > 0) {
    // the helper config is tsproc's own: a line the helper refuses is a bug on one side, named so it can be found
    const does = ctx.describe(e.line);
    return new HelperFailure(`the helper cannot read its config: line ${e.line}${does ? ` (${does})` : ''} is malformed`, {
      code,
      syscall: 'config',
      exitCode: 125,
    });
  }
  const what =
    (e.line > 0 ? ctx.describe(e.line) : undefined) ??
    (Object.hasOwn(STEPS, e.step) ? STEPS[e.step] : undefined) ??
    `the helper's step ${e.step} failed`;
  const doing = e.line > 0 && ctx.describe(e.line) ? `cannot ${what}` : what;
  // a mount point or working directory the root lacks, in a root that takes no new paths
  const hint =
    code === 'EROFS' && (e.step === 'mkdir' || e.step === 'file')
      ? ': the root is read-only (--read-only, which gives an image no writable layer, or a read-only filesystem), so it must already be in it'
      : '';
  return new HelperFailure(`${doing}: ${why}${hint}`, { code, syscall: e.step, exitCode: 125 });
}
