// `tsproc mount`: the daemon's flags, lxcfs's own accepted so tsproc can replace it in place.
import { Command, Option } from 'commander';
import { TsprocError } from '../errors.js';
import { runMountDaemon } from '../daemon/mount-daemon.js';
import { parsePositiveInt } from './parse.js';

/** FUSE options accepted with -o (others are refused: tsproc does not pass options through). */
const FUSE_OPTIONS = new Set(['allow_other', 'nonempty', 'direct_io', 'default_permissions']);

export function mountCommand(): Command {
  return new Command('mount')
    .description('mount the per-container /proc views at DIR and serve them (runs in the foreground)')
    .argument('<dir>', 'mountpoint, created if missing (usually /var/lib/tsproc)')
    .option('-d, --debug', 'log one line per FUSE request')
    .option('-p, --pidfile <file>', 'write the daemon pid to FILE')
    .option('--threads <n>', 'worker threads serving requests (default: one per core, 2 to 16)', parsePositiveInt('--threads'))
    .addOption(new Option('-f, --foreground', 'accepted for lxcfs compatibility: tsproc always runs in the foreground'))
    .addOption(new Option('-o <options>', 'FUSE options, for lxcfs compatibility (allow_other is always on)').argParser(parseFuseOptions))
    .action(async (dir: string, opts: { debug?: boolean; pidfile?: string; threads?: number }) => {
      process.exitCode = await runMountDaemon({
        dir,
        debug: opts.debug ?? false,
        ...(opts.pidfile ? { pidfile: opts.pidfile } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
      });
    });
}

function parseFuseOptions(value: string, previous: string[] | undefined): string[] {
  const list = value.split(',').filter(Boolean);
  for (const o of list) {
    if (!FUSE_OPTIONS.has(o)) throw new TsprocError(`-o ${o}: unsupported FUSE option (tsproc accepts ${[...FUSE_OPTIONS].join(', ')})`, { code: 'EINVAL', exitCode: 2 });
  }
  return [...(previous ?? []), ...list];
}
