// `tsproc run`: docker's flags → a plan → the executor; exits with the command's status (125 when
// tsproc fails before the command starts, 126/127 when it cannot be run or found, 128+N for a signal).
import { Command, type ErrorOptions } from 'commander';
import { hostProbe } from '../../runner/host-probe.js';
import type { RunFlags } from '../../runner/plan-from-flags.js';
import { DEFAULT_MOUNT_DIR } from '../served-files.js';
import { rootsOf } from './roots.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Usage errors of `run` exit 125 as docker's do (main.ts keeps a command's own usage status). */
export function exitOnUsage(cmd: Command, code: number): Command {
  const error = cmd.error.bind(cmd);
  cmd.error = (message: string, opts?: ErrorOptions) => error(message, { ...opts, exitCode: code });
  return cmd;
}

export function runCommand(): Command {
  const cmd = new Command('run')
    .description(
      'run a command in a new container from an image, or in a directory with --rootfs (options end at the first argument: tsproc run busybox ls -l)',
    )
    .usage('[options] IMAGE [CMD [ARG...]]  |  [options] --rootfs DIR [--] CMD [ARG...]')
    .argument('[args...]', "the image and the command (default: the image's Entrypoint and Cmd), or with --rootfs the command")
    .passThroughOptions()
    .option('--rootfs <dir>', 'the root filesystem, used in place (instead of an image)')
    .option('--storage-driver <driver>', "an image's root: overlay or vfs (a full copy) (default: overlay where it works)")
    .option('--entrypoint <cmd>', 'replace the image\'s Entrypoint (and drop its Cmd; "" clears it)')
    .option('--name <name>', "the container's name (unique; generated if not given)")
    .option('--rm', 'remove the container (record, log, name) when it exits')
    .option('-d, --detach', "print the container's id and return; it runs on, its output going to its log")
    .option('--log-opt <max-size=SIZE>', 'rotate the log past SIZE (default 10m): it never holds more than twice that', collect)
    .option('--hostname <name>', "the container's hostname (default: its short id)")
    .option('-e, --env <K=V>', 'set an environment variable (K alone: take ours)', collect)
    .option('--env-file <file>', 'read environment variables from a file', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', "NAME|UID[:GROUP|GID], names from the root's /etc/passwd")
    .option('-v, --volume <src:dst[:ro]>', 'bind a host path into the container', collect)
    .option('--read-only', 'mount the root filesystem read-only')
    .option('-t, --tty', 'a pseudo-terminal for the command (with -i: our stdin goes to it)')
    .option('-i, --interactive', 'keep stdin open (otherwise the container reads /dev/null)')
    .option('--init', 'run a minimal init as PID 1 that reaps zombies and forwards signals')
    .option('--cap-add <cap>', 'add a capability (or ALL)', collect)
    .option('--cap-drop <cap>', 'drop a capability (or ALL)', collect)
    .option('--privileged', 'every capability, no masked or read-only paths, /sys writable, no seccomp profile')
    .option(
      '--security-opt <seccomp=...>',
      "seccomp=unconfined (no profile) or seccomp=PROFILE.json (docker's format) instead of the default profile",
      collect,
    )
    .option('-m, --memory <bytes>', 'memory limit (bytes or with k, m, g)')
    .option('--memory-swap <bytes>', 'memory plus swap limit, -1 for unlimited swap, 0 for not set (as much swap as memory)')
    .option('--cpus <n>', 'CPU limit, fractional (1.5)')
    .option('--cpuset-cpus <list>', 'CPUs the container may use (0-2,4)')
    .option('--pids-limit <n>', 'most processes at once (-1: unlimited)')
    .option('--cgroup-parent <path>', "the cgroup to create the container's under", 'tsproc')
    .option('--net <mode>', 'none (a private network with loopback) or host', 'none')
    .option('--add-host <name:ip>', 'add a line to /etc/hosts', collect)
    .option('--lxcfs', `bind the per-container /proc files of the mount at ${DEFAULT_MOUNT_DIR}`)
    .option('--lxcfs-root <dir>', 'the same from another lxcfs-compatible mount (implies --lxcfs)')
    .action(async (args: string[], flags: RunFlags, command: Command) => {
      // loaded here, not with the CLI: every other command starts without the runner (issue 13)
      const [{ hostLayout }, { runContainer }, { findImage, splitRunArgs }, { newId, newName }, { buildPlan }] = await Promise.all([
        import('../cgroup-layout.js'),
        import('../../runner/executor.js'),
        import('../../runner/image-run.js'),
        import('../../runner/names.js'),
        import('../../runner/plan-from-flags.js'),
      ]);
      const roots = rootsOf(command);
      const warn = (m: string) => process.stderr.write(`tsproc: ${m}\n`);
      const id = newId();
      const run = splitRunArgs(flags.rootfs, args);
      const image = run.image === undefined ? undefined : findImage(roots, run.image, id, flags, warn);
      const plan = buildPlan(flags, run.cmd, { id, name: newName() }, hostProbe(), image);
      process.exitCode = await runContainer(plan, { roots, layout: hostLayout(), generatedName: flags.name === undefined, warn });
      // Done: the monitor has cleaned up (or, with -d, runs on without us). Exiting here skips Node's
      // teardown of its heap, some 7% of a run (issue 13); only with nothing left to write (stdout and
      // stderr are written synchronously to files, pipes and terminals, not always to sockets).
      if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
    });
  return exitOnUsage(cmd, 125);
}
