// `tsproc inspect` (a container as JSON), `tsproc top` (its processes), `tsproc logs [-f]`.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type pidusage from 'pidusage';
import type { LogRecord } from '../../runner/logs.js';
import type { RunPlan } from '../../runner/plan.js';
import { paths } from '../../runner/roots.js';
import { rootsOf } from './roots.js';
import { TsprocError } from '../errors.js';
import { humanBytes } from '../human.js';
import { table } from './table.js';

// The runner's modules (and pidusage) load when one of these commands runs, not with the CLI (issue 13).
const containers = () => import('../../runner/containers.js');

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('containers as JSON: state, exit status, plan, cgroup')
    .argument('<names...>')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const [{ findContainer }, { RECORD_FILES }] = await Promise.all([containers(), import('../../runner/state.js')]);
      const roots = rootsOf(cmd);
      const out = names.map((n) => {
        const i = findContainer(roots, n);
        return {
          Id: i.record.id,
          Name: i.record.name,
          Created: i.record.created,
          State: {
            Status: i.status,
            Running: i.status === 'running',
            Pid: i.pid ?? 0,
            MonitorPid: i.monitorPid ?? 0,
            ExitCode: i.exit?.code ?? 0,
            OOMKilled: i.exit?.oomKilled ?? false,
            MonitorLost: i.exit?.monitorLost ?? false,
            /** why it has no exit status of its command's: monitor lost, set-up interrupted, set-up failed */
            ExitNote: i.exit?.note ?? null,
            StartedAt: i.startedAt?.toISOString() ?? null,
            FinishedAt: i.finishedAt?.toISOString() ?? null,
          },
          Image: i.record.plan.image?.id ?? null,
          ImageName: i.record.plan.image?.ref ?? null,
          GraphDriver: graphDriver(i.record.plan),
          LogPath: `${paths.record(roots, i.record.id)}/${RECORD_FILES.log}`,
          Config: i.record.plan,
          Cgroup: i.record.cgroup,
        };
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}

/** Where the container's root is, in docker's words: the overlay's layers, a vfs copy, or a --rootfs directory ("bind"). */
function graphDriver(plan: RunPlan): { Name: string; Data: Record<string, string> } {
  const r = plan.root;
  if (r.kind === 'overlay') {
    return {
      Name: 'overlay',
      Data: { LowerDir: r.lowerdirs.join(':'), ...(r.upperdir ? { UpperDir: r.upperdir, WorkDir: r.workdir! } : {}), MergedDir: r.target },
    };
  }
  return { Name: plan.image ? 'vfs' : 'bind', Data: { Dir: r.path } };
}

/** The uid of a process, for the USER column. */
function uidOf(pid: number): string {
  try {
    return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

export function topCommand(): Command {
  return new Command('top')
    .description("a container's processes with their CPU % and memory (host pids)")
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const [{ findContainer }, { cgroupPids }, { default: pidusage }] = await Promise.all([
        containers(),
        import('../../runner/cgroup/cgroup-usage.js'),
        import('pidusage'),
      ]);
      const info = findContainer(rootsOf(cmd), name);
      if (info.status !== 'running') throw new TsprocError(`container ${info.record.name} is not running`, { code: 'ESRCH' });
      const pids = cgroupPids(info.record.cgroup);
      const stats = pids.length ? await pidusage(pids).catch(() => ({}) as Record<number, pidusage.Status>) : {};
      const rows = pids.flatMap((pid) => {
        const s = (stats as Record<number, pidusage.Status>)[pid];
        return s ? [[String(pid), uidOf(pid), `${s.cpu.toFixed(1)}%`, humanBytes(s.memory), cmdline(pid)]] : [];
      });
      process.stdout.write(table([['PID', 'UID', 'CPU %', 'MEM', 'COMMAND'], ...rows]));
    });
}

export function logsCommand(): Command {
  return new Command('logs')
    .description("a container's output (its stdout and stderr, kept as it wrote them)")
    .argument('<name>')
    .option('-f, --follow', 'go on printing until it ends')
    .action(async (name: string, opts: { follow?: boolean }, cmd: Command) => {
      const [{ findContainer }, { followLog, readLog }, { RECORD_FILES }] = await Promise.all([
        containers(),
        import('../../runner/logs.js'),
        import('../../runner/state.js'),
      ]);
      const roots = rootsOf(cmd);
      const info = findContainer(roots, name);
      const path = `${paths.record(roots, info.record.id)}/${RECORD_FILES.log}`;
      // a reader that went away (tsproc logs NAME | head) ends us quietly
      for (const s of [process.stdout, process.stderr])
        s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));
      const emit = (r: LogRecord) => (r.stream === 'stdout' ? process.stdout : process.stderr).write(r.text);
      if (!opts.follow) {
        for (const r of readLog(path)) emit(r);
        return;
      }
      await followLog(path, emit, () => {
        const now = findContainer(roots, info.record.id);
        return now.status !== 'running' && now.status !== 'created';
      });
    });
}
