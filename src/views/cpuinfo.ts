// /proc/cpuinfo: the host's blocks for the CPUs the container sees, renumbered from 0.
import type { Reader } from '../reader/resolver.js';
import { gatherCpuLimits, hidesCpus, visibleCpus } from './cpu-figures.js';
import { HOST_FILE, type HostFile, type View, type ViewEnv } from './view.js';

export interface CpuinfoSnapshot {
  /** the host's /proc/cpuinfo */
  host: string;
  /** the host CPUs shown, in order */
  visible: number[];
}

function gather(env: ViewEnv, reader: Reader): CpuinfoSnapshot | HostFile {
  const limits = gatherCpuLimits(env, reader);
  if (reader.scope === 'host' && !hidesCpus(limits)) return HOST_FILE;
  return { host: env.host('/proc/cpuinfo'), visible: visibleCpus(limits) };
}

const PROCESSOR = /^processor\s*:\s*([0-9]+)/;

function render(s: CpuinfoSnapshot): string {
  // One block per CPU, separated by blank lines, each opening with "processor : N" (x86, arm64,
  // riscv); blocks that are not a CPU's (arm's trailing "Hardware" lines) are kept after them.
  const byCpu = new Map<number, string>();
  const other: string[] = [];
  for (const block of s.host.split('\n\n')) {
    if (block.trim() === '') continue;
    const m = PROCESSOR.exec(block);
    if (m) byCpu.set(Number(m[1]), block);
    else other.push(block);
  }
  const shown: string[] = [];
  for (const cpu of s.visible) {
    const block = byCpu.get(cpu);
    if (block !== undefined) shown.push(block.replace(PROCESSOR, (head) => head.replace(/[0-9]+$/, String(shown.length))));
  }
  // x86 ends every block, the last too, with a blank line; arm64 ends the file with one newline.
  return `${[...shown, ...other].map((b) => b.replace(/\n+$/, '')).join('\n\n')}${s.host.endsWith('\n\n') ? '\n\n' : '\n'}`;
}

export const cpuinfo: View<CpuinfoSnapshot> = { name: 'cpuinfo', gather, render };
