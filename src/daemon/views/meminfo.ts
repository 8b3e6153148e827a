// /proc/meminfo: the container's memory limit, usage and memory.stat in the host's layout.
import { ONE_RECORD } from '../io/file-source.js';
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
  return { host: env.host('/proc/meminfo', ONE_RECORD), mem, swap: env.options.swap };
}

/** The lines the cgroup has figures for, in the kernel's order; every other line is the host's. */
const LABELS = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Buffers',
  'Cached',
  'SwapCached',
  'Active',
  'Inactive',
  'Active(anon)',
  'Inactive(anon)',
  'Active(file)',
  'Inactive(file)',
  'Unevictable',
  'Mlocked',
  'SwapTotal',
  'SwapFree',
  'Zswap',
  'Zswapped',
  'Dirty',
  'Writeback',
  'AnonPages',
  'Mapped',
  'Shmem',
  'KReclaimable',
  'Slab',
  'SReclaimable',
  'SUnreclaim',
  'KernelStack',
  'PageTables',
  'SecPageTables',
  'AnonHugePages',
  'ShmemHugePages',
  'ShmemPmdMapped',
  'FileHugePages',
  'FilePmdMapped',
] as const;
type Label = (typeof LABELS)[number];
const PREFIX = LABELS.map((l) => `${l}:`);
/** The kernel's layout: the label and colon padded to 16 columns, the value right-aligned in 8. */
const PADDED = PREFIX.map((p) => p.padEnd(16));
const SPACES = '        ';

function render(s: MeminfoSnapshot): string {
  const host = hostFigures(s.host);
  const { mem } = s;
  const st = mem.stat;
  const k = (key: keyof typeof st) => kB(st[key] ?? 0);
  const total = Math.min(host.get('MemTotal') ?? 0, kB(mem.limit));
  const free = Math.max(0, total - kB(mem.usage));
  const swap = swapFigures(mem, host, s.swap);
  const unevictable = k('unevictable');
  // Figures only v2 keeps: where the cgroup has none (v1), the host's line stays.
  const v2 = (key: keyof typeof st) => (st[key] === undefined ? undefined : k(key));
  const values: Record<Label, number | undefined> = {
    MemTotal: total,
    MemFree: free,
    // What could be had without swapping: free memory and the file cache and slab the kernel can reclaim.
    MemAvailable: Math.min(total, free + k('active_file') + k('inactive_file') + k('slab_reclaimable')),
    Buffers: 0,
    Cached: k('file'),
    SwapCached: s.swap ? k('swapcached') : 0,
    Active: k('active_anon') + k('active_file'),
    Inactive: k('inactive_anon') + k('inactive_file'),
    'Active(anon)': k('active_anon'),
    'Inactive(anon)': k('inactive_anon'),
    'Active(file)': k('active_file'),
    'Inactive(file)': k('inactive_file'),
    Unevictable: unevictable,
    Mlocked: Math.min(host.get('Mlocked') ?? 0, unevictable),
    SwapTotal: swap.totalKb,
    SwapFree: swap.totalKb - swap.usedKb,
    Zswap: v2('zswap'),
    Zswapped: v2('zswapped'),
    Dirty: k('file_dirty'),
    Writeback: k('file_writeback'),
    AnonPages: k('anon'),
    Mapped: k('file_mapped'),
    Shmem: k('shmem'),
    KReclaimable: k('slab_reclaimable'),
    Slab: k('slab_reclaimable') + k('slab_unreclaimable'),
    SReclaimable: k('slab_reclaimable'),
    SUnreclaim: k('slab_unreclaimable'),
    KernelStack: v2('kernel_stack'),
    PageTables: v2('pagetables'),
    SecPageTables: v2('sec_pagetables'),
    AnonHugePages: k('anon_thp'),
    ShmemHugePages: k('shmem_thp'),
    ShmemPmdMapped: 0,
    FileHugePages: k('file_thp'),
    FilePmdMapped: 0,
  };
  return replaceLines(s.host, values);
}

const NL_PREFIX = PREFIX.map((p) => `\n${p}`);

function formatLine(i: number, kb: number): string {
  const digits = String(kb);
  return `${PADDED[i]}${digits.length < 8 ? SPACES.slice(digits.length) : ''}${digits} kB`;
}

/**
 * The host file with the lines of `values` replaced and every other line as it is. The labels are in
 * the kernel's order, so one pass finds them; a kernel that orders them otherwise takes the slow path.
 */
function replaceLines(host: string, values: Record<Label, number | undefined>): string {
  let out = '';
  let pos = 0;
  for (let i = 0; i < LABELS.length; i++) {
    const kb = values[LABELS[i]!];
    if (kb === undefined) continue;
    let at: number;
    if (host.startsWith(PREFIX[i]!, pos)) at = pos;
    else {
      const nl = host.indexOf(NL_PREFIX[i]!, Math.max(0, pos - 1));
      if (nl < 0) {
        if (host.startsWith(PREFIX[i]!) || host.includes(NL_PREFIX[i]!)) return replaceAnyOrder(host, values);
        continue;
      }
      at = nl + 1;
    }
    let end = host.indexOf('\n', at);
    if (end < 0) end = host.length;
    out += host.slice(pos, at) + formatLine(i, kb);
    pos = end;
  }
  return out + host.slice(pos);
}

function replaceAnyOrder(host: string, values: Record<Label, number | undefined>): string {
  const lines = host.split('\n');
  const where = new Map(lines.map((l, n) => [l.slice(0, l.indexOf(':') + 1), n]));
  LABELS.forEach((label, i) => {
    const kb = values[label];
    const at = where.get(PREFIX[i]!);
    if (kb !== undefined && at !== undefined) lines[at] = formatLine(i, kb);
  });
  return lines.join('\n');
}

export const meminfo: View<MeminfoSnapshot> = { name: 'meminfo', gather, render };
