// The cgroup v1 driver (v1 and hybrid hosts): v1 file names translated into the v2 vocabulary of driver.ts.
import { ONE_RECORD, type FileSource } from '../io/file-source.js';
import { cgroupFile, selfAndAncestors, v1Paths } from './cgroup-paths.js';
import { SETTING, type CgroupDriver, type CgroupPaths, type CpuUsage, type MemoryStat } from './driver.js';
import type { V1Controller } from '../../cgroup-layout.js';
import { MissingFileError, ParseError } from './errors.js';
import { keyedValue, parseBlkio, parseCount, parseCpuList, parseIdList, parseKeyed, parseLimit, type IoCounters } from './parse.js';

/** v2 memory.stat key ← v1 memory.stat key (the recursive total_* figures). */
const STAT_NAMES: [keyof MemoryStat, string][] = [
  ['anon', 'total_rss'],
  ['file', 'total_cache'],
  ['shmem', 'total_shmem'],
  ['file_mapped', 'total_mapped_file'],
  ['file_dirty', 'total_dirty'],
  ['file_writeback', 'total_writeback'],
  ['anon_thp', 'total_rss_huge'],
  ['active_anon', 'total_active_anon'],
  ['inactive_anon', 'total_inactive_anon'],
  ['active_file', 'total_active_file'],
  ['inactive_file', 'total_inactive_file'],
  ['unevictable', 'total_unevictable'],
  ['swapcached', 'total_swapcached'],
];

/** blkio byte and operation counters, best first: the generic ones, then BFQ's, then CFQ's (old kernels). */
const BLKIO_FILES: [string, string][] = [
  ['blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_serviced_recursive'],
  ['blkio.bfq.io_service_bytes_recursive', 'blkio.bfq.io_serviced_recursive'],
  ['blkio.io_service_bytes_recursive', 'blkio.io_serviced_recursive'],
];

export class V1Driver implements CgroupDriver {
  readonly version = 1 as const;

  /** `mounts`: where each v1 controller is mounted (cpu and cpuacct may share one). */
  constructor(
    private readonly files: FileSource,
    private readonly mounts: Partial<Record<V1Controller, string>>,
  ) {}

  paths(procCgroup: string): CgroupPaths {
    return v1Paths(procCgroup);
  }

  private read(controller: V1Controller, path: string, file: string): string | undefined {
    const mount = this.mounts[controller];
    return mount === undefined ? undefined : this.files.read(cgroupFile(mount, path, file), ONE_RECORD);
  }

  /** A setting: reused for up to SETTING_AGE_MS. */
  private setting(controller: V1Controller, path: string, file: string): string | undefined {
    const mount = this.mounts[controller];
    return mount === undefined ? undefined : this.files.read(cgroupFile(mount, path, file), SETTING);
  }

  /** A file that must exist. */
  private need(controller: V1Controller, path: string, file: string): string {
    const text = this.read(controller, path, file);
    if (text === undefined) throw new MissingFileError(cgroupFile(this.mounts[controller] ?? `(no ${controller} controller)`, path, file));
    return text;
  }

  /** memory.stat's recursive (total_*) half, parsed once per render. */
  private rawStat(cg: CgroupPaths): Record<string, number> | undefined {
    const mount = this.mounts.memory;
    return mount === undefined ? undefined : this.files.parsed(cgroupFile(mount, cg.memory, 'memory.stat'), parseTotals, ONE_RECORD);
  }

  /**
   * One line of memory.stat, without parsing the rest. The hierarchical limits are settings: read at
   * most once a second (a host reader's limit check then costs no read), the usage lines at every render.
   */
  private statValue(cg: CgroupPaths, key: string, setting = false): number | undefined {
    const mount = this.mounts.memory;
    const text =
      mount === undefined ? undefined : this.files.read(cgroupFile(mount, cg.memory, 'memory.stat'), setting ? SETTING : ONE_RECORD);
    return text === undefined ? undefined : keyedValue(text, key);
  }

  memoryCurrent(cg: CgroupPaths): number {
    return parseCount(this.need('memory', cg.memory, 'memory.usage_in_bytes'), 'memory.usage_in_bytes');
  }

  memoryStat(cg: CgroupPaths): MemoryStat {
    const raw = this.rawStat(cg);
    if (!raw) throw new MissingFileError(cgroupFile(this.mounts.memory ?? '(no memory controller)', cg.memory, 'memory.stat'));
    const out: MemoryStat = {};
    for (const [v2, v1] of STAT_NAMES) {
      const value = raw[v1] ?? raw[v1.slice('total_'.length)];
      if (value !== undefined) out[v2] = value;
    }
    return out;
  }

  /** memory.stat's hierarchical_memory_limit is already the smallest over the ancestors. */
  memoryMax(cg: CgroupPaths): number {
    const h = this.statValue(cg, 'hierarchical_memory_limit', true);
    if (h !== undefined) return h >= 2 ** 62 ? Infinity : h;
    let min = Infinity;
    for (const p of selfAndAncestors(cg.memory)) {
      const t = this.setting('memory', p, 'memory.limit_in_bytes');
      if (t !== undefined) min = Math.min(min, parseLimit(t, 'memory.limit_in_bytes'));
    }
    return min;
  }

  /** v1 limits memory plus swap together (memsw); the swap room is that limit less the memory limit. */
  swapMax(cg: CgroupPaths): number | undefined {
    const memsw = this.statValue(cg, 'hierarchical_memsw_limit', true);
    if (memsw === undefined) return undefined;
    if (memsw >= 2 ** 62) return Infinity;
    return Math.max(0, memsw - this.memoryMax(cg));
  }

  swapCurrent(cg: CgroupPaths): number | undefined {
    const swap = this.statValue(cg, 'total_swap') ?? this.statValue(cg, 'swap');
    if (swap !== undefined) return swap;
    const memsw = this.read('memory', cg.memory, 'memory.memsw.usage_in_bytes');
    if (memsw === undefined) return undefined;
    return Math.max(0, parseCount(memsw, 'memory.memsw.usage_in_bytes') - this.memoryCurrent(cg));
  }

  swappiness(cg: CgroupPaths): number | undefined {
    const t = this.setting('memory', cg.memory, 'memory.swappiness');
    return t === undefined ? undefined : parseCount(t, 'memory.swappiness');
  }

  cpuMax(cg: CgroupPaths): number {
    let min = Infinity;
    for (const p of selfAndAncestors(cg.cpu)) {
      const quota = this.setting('cpu', p, 'cpu.cfs_quota_us')?.trim();
      if (quota === undefined || quota.startsWith('-')) continue;
      const period = this.setting('cpu', p, 'cpu.cfs_period_us');
      if (period === undefined) continue;
      const per = parseCount(period, 'cpu.cfs_period_us');
      if (per > 0) min = Math.min(min, parseCount(quota, 'cpu.cfs_quota_us') / per);
    }
    return min;
  }

  cpusEffective(cg: CgroupPaths): number[] | undefined {
    const t = this.setting('cpuset', cg.cpuset, 'cpuset.effective_cpus') ?? this.setting('cpuset', cg.cpuset, 'cpuset.cpus');
    return t === undefined ? undefined : parseCpuList(t);
  }

  /**
   * cpuacct.usage_percpu is the exact time per CPU; cpuacct.usage_all's user/system columns come from
   * tick sampling (they do not add up to it), so they only give the split of each CPU's exact time.
   */
  cpuUsage(cg: CgroupPaths): CpuUsage {
    const exact = this.read('cpuacct', cg.cpuacct, 'cpuacct.usage_percpu');
    const all = this.read('cpuacct', cg.cpuacct, 'cpuacct.usage_all');
    if (exact === undefined) {
      // No per-CPU figures: the total, split as cpuacct.stat's ticks split it.
      const total = parseCount(this.need('cpuacct', cg.cpuacct, 'cpuacct.usage'), 'cpuacct.usage');
      const [user, system] = split(total, parseKeyed(this.read('cpuacct', cg.cpuacct, 'cpuacct.stat') ?? ''));
      return { user, system };
    }
    const sampled: { user: number; system: number }[] = [];
    for (const line of (all ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/).map(Number);
      if (f.length === 3 && f.every(Number.isFinite)) sampled[f[0]!] = { user: f[1]!, system: f[2]! };
    }
    const perCpu: { user: number; system: number }[] = [];
    let user = 0;
    let system = 0;
    exact
      .trim()
      .split(/\s+/)
      .forEach((field, cpu) => {
        const total = Number(field);
        if (!Number.isFinite(total)) throw new ParseError('cpuacct.usage_percpu', exact);
        const [u, s] = split(total, sampled[cpu] ?? {});
        perCpu[cpu] = { user: u, system: s };
        user += u;
        system += s;
      });
    return { user, system, perCpu };
  }

  ioStat(cg: CgroupPaths): Map<string, IoCounters> {
    for (const [bytes, ios] of BLKIO_FILES) {
      const b = this.read('blkio', cg.io, bytes);
      const o = this.read('blkio', cg.io, ios);
      if (b !== undefined && o !== undefined) return parseBlkio(b, o);
    }
    throw new MissingFileError(cgroupFile(this.mounts.blkio ?? '(no blkio controller)', cg.io, BLKIO_FILES[0]![0]));
  }

  /** The hierarchy whose `tasks` files list the threads. */
  private get threadsController(): 'cpu' | 'pids' | 'memory' {
    return this.mounts.cpu ? 'cpu' : this.mounts.pids ? 'pids' : 'memory';
  }

  threadsCgroup(cg: CgroupPaths): string {
    return cg[this.threadsController];
  }

  threads(cg: CgroupPaths): number[] {
    const mount = this.mounts[this.threadsController];
    if (!mount) return [];
    const path = this.threadsCgroup(cg);
    const out: number[] = [];
    const walk = (p: string, depth: number) => {
      // Many records: read to the end.
      const text = this.files.read(cgroupFile(mount, p, 'tasks'));
      if (text === undefined) {
        if (depth === 0) throw new MissingFileError(cgroupFile(mount, p, 'tasks'));
        return;
      }
      out.push(...parseIdList(text));
      if (depth < 16)
        for (const sub of this.files.subdirs(cgroupFile(mount, p, '').slice(0, -1))) walk(p === '/' ? `/${sub}` : `${p}/${sub}`, depth + 1);
    };
    walk(path, 0);
    return out;
  }

  describe(cg: CgroupPaths): string {
    return cg.memory === cg.cpu ? cg.memory : `memory ${cg.memory}, cpu ${cg.cpu}`;
  }
}

/** The total_* lines of a v1 memory.stat (they follow the cgroup's own), or all of it if it has none. */
function parseTotals(text: string): Record<string, number> {
  const at = text.indexOf('\ntotal_');
  return parseKeyed(at < 0 ? text : text.slice(at + 1));
}

/** An exact CPU time split in the proportion of sampled user and system figures (all user when none). */
function split(total: number, sampled: { user?: number; system?: number }): [number, number] {
  const u = sampled.user ?? 0;
  const both = u + (sampled.system ?? 0);
  const user = both > 0 ? Math.round((total * u) / both) : total;
  return [user, total - user];
}
