// /sys/devices/system/cpu/online: "0-(N-1)" for the N CPUs cpuinfo shows.
import type { Reader } from '../reader/resolver.js';
import { gatherCpuLimits, hidesCpus, visibleCpus } from './cpu-figures.js';
import { HOST_FILE, type HostFile, type View, type ViewEnv } from './view.js';

export interface CpuOnlineSnapshot {
  /** CPUs shown */
  count: number;
}

function gather(env: ViewEnv, reader: Reader): CpuOnlineSnapshot | HostFile {
  const limits = gatherCpuLimits(env, reader);
  if (reader.scope === 'host' && !hidesCpus(limits)) return HOST_FILE;
  return { count: visibleCpus(limits).length };
}

function render(s: CpuOnlineSnapshot): string {
  return s.count <= 1 ? '0\n' : `0-${s.count - 1}\n`;
}

export const cpuOnline: View<CpuOnlineSnapshot> = { name: 'cpu-online', gather, render };
