// A container's memory and swap figures, shared by meminfo and swaps: gathered once, computed purely.
import type { MemoryStat } from '../cgroup/driver.js';
import type { Reader } from '../reader/resolver.js';
import { HOST_FILE, type HostFile, type ViewEnv } from './view.js';

export interface MemoryFigures {
  /** the smallest memory limit over the cgroup and its ancestors, bytes; Infinity for none */
  limit: number;
  /** memory.current, bytes */
  usage: number;
  stat: MemoryStat;
  /** the smallest swap limit and the swap in use, bytes; undefined without swap accounting or with --no-swap */
  swap: { limit: number; usage: number } | undefined;
  /** v1 memory.swappiness (0: the cgroup does not swap) */
  swappiness: number | undefined;
}

/** HOST_FILE for a host reader under no memory limit (a shell on the host sees the host). */
export function gatherMemory(env: ViewEnv, reader: Reader): MemoryFigures | HostFile {
  const d = env.driver;
  const cg = reader.cgroup;
  const limit = d.memoryMax(cg);
  if (reader.scope === 'host' && limit === Infinity) return HOST_FILE;
  const usage = d.memoryCurrent(cg);
  const stat = d.memoryStat(cg);
  let swap: MemoryFigures['swap'];
  let swappiness: number | undefined;
  if (env.options.swap) {
    const max = d.swapMax(cg);
    const current = max === undefined ? undefined : d.swapCurrent(cg);
    if (max !== undefined && current !== undefined) swap = { limit: max, usage: current };
    swappiness = d.swappiness(cg);
  }
  return { limit, usage, stat, swap, swappiness };
}

export const kB = (bytes: number): number => Math.floor(bytes / 1024);

/** The host figures the views use, found without parsing the whole file. */
export function hostFigures(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const label of ['MemTotal', 'SwapTotal', 'SwapFree', 'Mlocked']) {
    const at = text.startsWith(`${label}:`) ? 0 : text.indexOf(`\n${label}:`) + 1;
    if (at > 0 || text.startsWith(`${label}:`)) out.set(label, parseInt(text.slice(at + label.length + 1, at + label.length + 40), 10));
  }
  return out;
}

export interface SwapFigures {
  totalKb: number;
  usedKb: number;
}

/**
 * The container's swap in kB: the smallest swap limit, at most the host's swap; with no swap accounting
 * the host's own figures; none with --no-swap. Swappiness 0 (v1) means it cannot swap more than it has.
 */
export function swapFigures(m: MemoryFigures, host: Map<string, number>, shown: boolean): SwapFigures {
  if (!shown) return { totalKb: 0, usedKb: 0 };
  const hostTotal = host.get('SwapTotal') ?? 0;
  if (!m.swap) return { totalKb: hostTotal, usedKb: hostTotal - (host.get('SwapFree') ?? hostTotal) };
  let totalKb = Math.min(hostTotal, kB(m.swap.limit));
  const usedKb = Math.min(totalKb, kB(m.swap.usage));
  if (m.swappiness === 0) totalKb = usedKb;
  return { totalKb, usedKb };
}
