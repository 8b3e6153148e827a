// `tsproc top NAME`: a container's processes with their CPU % and memory (host pids).
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type pidusage from 'pidusage';
import { TsprocError } from '../errors.js';
import { humanBytes } from '../human.js';
import { rootsOf } from './roots.js';
import { loadContainers } from './runner-modules.js';
import { table } from './table.js';

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
        loadContainers(),
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
