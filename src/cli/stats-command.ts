// `tsproc stats [--no-stream] [NAME...]`: live CPU %, memory and tasks of running containers, from their cgroups.
import { Command } from 'commander';
import { humanBytes } from '../human.js';
import { rootsOf } from './roots.js';
import { loadContainers, loadNames, loadUsage } from './runner-modules.js';
import { table } from './table.js';

export function statsCommand(): Command {
  return new Command('stats')
    .description('live CPU %, memory and tasks of running containers (all, or those named)')
    .argument('[names...]', 'containers (default: every running one)')
    .option('--no-stream', 'print one sample and return')
    .action(async (names: string[], opts: { stream: boolean }, cmd: Command) => {
      const [{ readUsage }, { findContainer, listContainers }, { shortId }] = await Promise.all([
        loadUsage(),
        loadContainers(),
        loadNames(),
      ]);
      const roots = rootsOf(cmd);
      const pick = () =>
        (names.length ? names.map((n) => findContainer(roots, n)) : listContainers(roots)).filter((i) => i.status === 'running');
      let before = new Map(pick().map((i) => [i.record.id, { u: readUsage(i.record.cgroup), t: Date.now() }]));
      let stop = false;
      process.once('SIGINT', () => (stop = true));
      do {
        await new Promise((r) => setTimeout(r, opts.stream ? 1000 : 500));
        const now = pick().map((i) => ({ i, u: readUsage(i.record.cgroup), t: Date.now() }));
        const rows = now.map(({ i, u, t }) => {
          const b = before.get(i.record.id);
          const cpu = u && b?.u ? ((u.cpuNs - b.u.cpuNs) / ((t - b.t) * 1e6)) * 100 : 0;
          const limit = u?.memoryLimit;
          return [
            shortId(i.record.id),
            i.record.name,
            `${cpu.toFixed(2)}%`,
            u ? `${humanBytes(u.memory)} / ${limit ? humanBytes(limit) : 'unlimited'}` : '',
            u && limit ? `${((u.memory / limit) * 100).toFixed(2)}%` : '',
            String(u?.pids ?? ''),
          ];
        });
        if (opts.stream && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
        process.stdout.write(table([['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'], ...rows]));
        before = new Map(now.map((x) => [x.i.record.id, { u: x.u, t: x.t }]));
      } while (opts.stream && !stop);
    });
}
