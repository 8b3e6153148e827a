// `tsproc inspect`: containers as JSON, in docker's shape where docker has one.
import { Command } from 'commander';
import type { RunPlan } from '../../runner/plan.js';
import { paths } from '../../runner/roots.js';
import { rootsOf } from './roots.js';
import { loadContainers, loadTeardown } from './runner-modules.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('containers as JSON: state, exit status, plan, cgroup')
    .argument('<names...>')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const [{ findContainer }, { settleDead }, { RECORD_FILES }] = await Promise.all([
        loadContainers(),
        loadTeardown(),
        import('../../runner/state.js'),
      ]);
      const roots = rootsOf(cmd);
      const out = names.map((n) => {
        const i = settleDead(roots, findContainer(roots, n));
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
