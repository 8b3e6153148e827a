// `tsproc ps [-a] [--json]`: containers with their CPU and memory, read from their cgroups.
import { Command } from 'commander';
import type { Usage } from '../../runner/cgroup/cgroup-usage.js';
import type { ContainerInfo } from '../../runner/containers.js';
import { rootsOf } from './roots.js';
import { humanBytes } from '../human.js';
import { loadContainers, loadNames, loadTeardown, loadUsage } from './runner-modules.js';
import { table } from './table.js';

const command = (i: ContainerInfo) => JSON.stringify(i.record.plan.process.args.join(' ')).slice(0, 30);

/** The image as it was named at `run`, or a --rootfs container's directory. */
const image = (i: ContainerInfo) => i.record.plan.image?.ref ?? (i.record.plan.root.kind === 'dir' ? i.record.plan.root.path : '');

/** CPU % over the container's life so far (100 = one CPU), as ps(1) counts it. */
function lifetimeCpu(i: ContainerInfo, u: Usage | undefined): number | undefined {
  if (!u || !i.startedAt) return undefined;
  const wallNs = Math.max(1, Date.now() - i.startedAt.getTime()) * 1e6;
  return (u.cpuNs / wallNs) * 100;
}

export function psCommand(): Command {
  return new Command('ps')
    .description('list running containers (-a: all), with their CPU % and memory')
    .option('-a, --all', 'also those that exited')
    .option('--json', 'one JSON array')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const [{ readUsage }, { describeStatus }, { settleContainers }, { shortId }] = await Promise.all([
        loadUsage(),
        loadContainers(),
        loadTeardown(),
        loadNames(),
      ]);
      // dead ones settled first: ps -a shows how each ended
      const all = settleContainers(rootsOf(cmd)).filter((i) => opts.all || i.status === 'running' || i.status === 'created');
      const rows = all.map((i) => {
        const u = i.status === 'running' ? readUsage(i.record.cgroup) : undefined;
        return { i, u, cpu: lifetimeCpu(i, u) };
      });
      if (opts.json) {
        const out = rows.map(({ i, u, cpu }) => ({
          id: i.record.id,
          name: i.record.name,
          image: image(i),
          imageId: i.record.plan.image?.id ?? null,
          command: i.record.plan.process.args,
          created: i.record.created,
          state: i.status,
          status: describeStatus(i),
          pid: i.pid ?? null,
          exitCode: i.exit?.code ?? null,
          cpuPercent: cpu ?? null,
          memoryBytes: u?.memory ?? null,
          memoryLimit: u?.memoryLimit ?? null,
        }));
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        return;
      }
      const header = ['CONTAINER ID', 'NAME', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'CPU %', 'MEM USAGE'];
      process.stdout.write(
        table([
          header,
          ...rows.map(({ i, u, cpu }) => [
            shortId(i.record.id),
            i.record.name,
            image(i),
            command(i),
            i.record.created.replace('T', ' ').slice(0, 19),
            describeStatus(i),
            cpu === undefined ? '' : `${cpu.toFixed(2)}%`,
            u ? humanBytes(u.memory) : '',
          ]),
        ]),
      );
    });
}
