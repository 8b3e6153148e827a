// /proc/loadavg: the container's load averages (kept by the sampler), running/total tasks, its newest pid.
import { formatLoad } from '../loadavg/calc.js';
import { countsWholeHost } from '../loadavg/key.js';
import type { Reader } from '../reader/resolver.js';
import { HOST_FILE, type HostFile, type LoadSample, type View, type ViewEnv } from './view.js';

function gather(env: ViewEnv, reader: Reader): LoadSample | HostFile {
  if (!env.options.loadavg || reader.scope === 'host' || countsWholeHost(env.driver, reader.cgroup)) return HOST_FILE;
  return env.load(reader);
}

function render(s: LoadSample): string {
  // Field 4 counts runnable tasks, the reader among them, over all tasks.
  const running = Math.max(1, s.running);
  return `${formatLoad(s.avg[0])} ${formatLoad(s.avg[1])} ${formatLoad(s.avg[2])} ${running}/${Math.max(running, s.total)} ${s.lastPid}\n`;
}

export const loadavg: View<LoadSample> = { name: 'loadavg', gather, render };
