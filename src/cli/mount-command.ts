// `tsproc mount`: the daemon's flags, lxcfs's own accepted so tsproc can replace it in place.
import { Command, Option } from 'commander';
import { TsprocError } from '../errors.js';
import { parsePositiveInt } from './parse.js';

/** FUSE options accepted with -o (others are refused: tsproc does not pass options through). */
const FUSE_OPTIONS = new Set(['allow_other', 'nonempty', 'direct_io', 'default_permissions']);

export function mountCommand(): Command {
  return new Command('mount')
    .description('mount the per-container /proc views at DIR and serve them (runs in the foreground)')
    .argument('<dir>', 'mountpoint, created if missing (usually /var/lib/tsproc)')
    .option('-d, --debug', 'log one line per FUSE request')
    .option('-p, --pidfile <file>', 'write the daemon pid to FILE')
    .option(
      '--threads <n>',
      'worker threads serving requests (default: 2; one reads at a time, the others stand by for a blocked read)',
      parsePositiveInt('--threads'),
    )
    .option('--no-swap', 'show no swap in meminfo and swaps')
    .option('--no-cpu-quota', 'show the whole cpuset, not cut to the CPU quota (cpuinfo, stat, online)')
    .option('--no-loadavg', "serve the host's loadavg and run no load sampler")
    .option(
      '--takeover',
      "take DIR's live connection over from the tsproc serving it, which exits 0 (an upgrade: no read fails); a plain mount if none does",
    )
    .option(
      '--stay-after-handover',
      'after a --takeover daemon took DIR over, stay (holding nothing) until SIGTERM instead of exiting: for a container that would be restarted (Kubernetes)',
    )
    .option(
      '--allow-nested-pid-namespace',
      "serve from a pid namespace that is not the host's (a nested host: tsproc inside a system container); elsewhere the daemon refuses to start",
    )
    .option(
      '--stuck-timeout <seconds>',
      'abort a FUSE connection that gives no answer for this long, at SIGTERM and when one is found on DIR at start (default: 10)',
      parsePositiveInt('--stuck-timeout'),
    )
    .addOption(new Option('-u, --disable-swap', "lxcfs's name for --no-swap"))
    .addOption(new Option('--enable-cfs', 'accepted for lxcfs compatibility: quota-aware CPU views are on by default'))
    .addOption(new Option('-l, --enable-loadavg', 'accepted for lxcfs compatibility: load averages are on by default'))
    .addOption(new Option('-f, --foreground', 'accepted for lxcfs compatibility: tsproc always runs in the foreground'))
    .addOption(new Option('-o <options>', 'FUSE options, for lxcfs compatibility (allow_other is always on)').argParser(parseFuseOptions))
    .action(async (dir: string, opts: MountFlags) => {
      const { runMountDaemon } = await import('../daemon/mount-daemon.js'); // the daemon loads for this command only
      process.exitCode = await runMountDaemon({
        dir,
        debug: opts.debug ?? false,
        ...(opts.pidfile ? { pidfile: opts.pidfile } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.stuckTimeout ? { stuckTimeoutMs: opts.stuckTimeout * 1000 } : {}),
        takeover: opts.takeover ?? false,
        stayAfterHandover: opts.stayAfterHandover ?? false,
        allowNestedPidNamespace: opts.allowNestedPidNamespace ?? false,
        content: { swap: opts.swap !== false && !opts.disableSwap, cpuQuota: opts.cpuQuota !== false, loadavg: opts.loadavg !== false },
      });
    });
}

interface MountFlags {
  debug?: boolean;
  pidfile?: string;
  threads?: number;
  stuckTimeout?: number;
  takeover?: boolean;
  stayAfterHandover?: boolean;
  allowNestedPidNamespace?: boolean;
  swap?: boolean;
  cpuQuota?: boolean;
  loadavg?: boolean;
  disableSwap?: boolean;
}

function parseFuseOptions(value: string, previous: string[] | undefined): string[] {
  const list = value.split(',').filter(Boolean);
  for (const o of list) {
    if (!FUSE_OPTIONS.has(o))
      throw new TsprocError(`-o ${o}: unsupported FUSE option (tsproc accepts ${[...FUSE_OPTIONS].join(', ')})`, { code: 'EINVAL' });
  }
  return [...(previous ?? []), ...list];
}
