// /proc/meminfo: the container's memory limit, usage and memory.stat in the host's layout.
import type { Reader } from '../reader/resolver.js';
import { gatherMemory, hostFigures, kB, swapFigures, type MemoryFigures } from './memory-figures.js';
import { HOST_FILE, type HostFile, type View, type ViewEnv } from './view.js';

export interface MeminfoSnapshot {
  /** the host's /proc/meminfo */
  host: string;
  mem: MemoryFigures;
  /** swap shown (not --no-swap) */
  swap: boolean;
}

function gather(env: ViewEnv, reader: Reader): MeminfoSnapshot | HostFile {
  const mem = gatherMemory(env, reader);
  if (mem === HOST_FILE) return HOST_FILE;
  return { host: env.host('/proc/meminfo'), mem, swap: env.options.swap };
}

/** The kernel's layout: the label and colon padded to 16 columns, the value right-aligned in 8. */
const line = (label: string, kb: number) => `${`${label}:`.padEnd(16)}${String(kb).padStart(8)} kB`;

function render(s: MeminfoSnapshot): string {
  const host = hostFigures(s.host);
  const { mem } = s;
  const st = mem.stat;
  const k = (key: keyof typeof st) => kB(st[key] ?? 0);
  const total = Math.min(host.get('MemTotal') ?? 0, kB(mem.limit));
  const free = Math.max(0, total - kB(mem.usage));
  const swap = swapFigures(mem, host, s.swap);
  const unevictable = k('unevictable');
  // Lines the cgroup has figures for; every other line is the host's.
  const v = new Map<string, number>([
    ['MemTotal', total],
    ['MemFree', free],
    // What could be had without swapping: free memory and the file cache and slab the kernel can reclaim.
    ['MemAvailable', Math.min(total, free + k('active_file') + k('inactive_file') + k('slab_reclaimable'))],
    ['Buffers', 0],
    ['Cached', k('file')],
    ['SwapCached', s.swap ? k('swapcached') : 0],
    ['Active', k('active_anon') + k('active_file')],
    ['Inactive', k('inactive_anon') + k('inactive_file')],
    ['Active(anon)', k('active_anon')],
    ['Inactive(anon)', k('inactive_anon')],
    ['Active(file)', k('active_file')],
    ['Inactive(file)', k('inactive_file')],
    ['Unevictable', unevictable],
    ['Mlocked', Math.min(host.get('Mlocked') ?? 0, unevictable)],
    ['SwapTotal', swap.totalKb],
    ['SwapFree', swap.totalKb - swap.usedKb],
    ['Dirty', k('file_dirty')],
    ['Writeback', k('file_writeback')],
    ['AnonPages', k('anon')],
    ['Mapped', k('file_mapped')],
    ['Shmem', k('shmem')],
    ['KReclaimable', k('slab_reclaimable')],
    ['Slab', k('slab_reclaimable') + k('slab_unreclaimable')],
    ['SReclaimable', k('slab_reclaimable')],
    ['SUnreclaim', k('slab_unreclaimable')],
    ['AnonHugePages', k('anon_thp')],
    ['ShmemHugePages', k('shmem_thp')],
    ['ShmemPmdMapped', 0],
    ['FileHugePages', k('file_thp')],
    ['FilePmdMapped', 0],
  ]);
  // Figures only v2 keeps: the host's line stays where the cgroup has none.
  for (const [label, key] of [
    ['KernelStack', 'kernel_stack'],
    ['PageTables', 'pagetables'],
    ['SecPageTables', 'sec_pagetables'],
    ['Zswap', 'zswap'],
    ['Zswapped', 'zswapped'],
  ] as const) {
    if (st[key] !== undefined) v.set(label, k(key));
  }
  let out = '';
  for (let start = 0; start < s.host.length; ) {
    let end = s.host.indexOf('\n', start);
    if (end < 0) end = s.host.length;
    const colon = s.host.indexOf(':', start);
    const value = colon > start && colon < end ? v.get(s.host.slice(start, colon)) : undefined;
    if (end > start) out += value === undefined ? `${s.host.slice(start, end)}\n` : `${line(s.host.slice(start, colon), value)}\n`;
    start = end + 1;
  }
  return out;
}

export const meminfo: View<MeminfoSnapshot> = { name: 'meminfo', gather, render };
