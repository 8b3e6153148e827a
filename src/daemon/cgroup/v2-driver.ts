// The cgroup v2 driver (pure v2 hosts): reads the unified hierarchy's own files.
import { ONE_RECORD, type FileSource } from '../io/file-source.js';
import { cgroupFile, selfAndAncestors, v2Paths } from './cgroup-paths.js';
import { SETTING, type CgroupDriver, type CgroupPaths, type CpuUsage, type MemoryStat } from './driver.js';
import { MissingFileError, ParseError } from './errors.js';
import {
  parseCount,
  parseCpuList,
  parseCpuMax,
  parseIdList,
  parseIoStat,
  parseKeyed,
  parseLimit,
  pickKeyed,
  type IoCounters,
} from './parse.js';

/** memory.stat keys copied as they are. */
const STAT_KEYS: (keyof MemoryStat)[] = [
  'anon',
  'file',
  'shmem',
  'file_mapped',
  'file_dirty',
  'file_writeback',
  'anon_thp',
  'file_thp',
  'shmem_thp',
  'active_anon',
  'inactive_anon',
  'active_file',
  'inactive_file',
  'unevictable',
  'slab_reclaimable',
  'slab_unreclaimable',
  'kernel_stack',
  'pagetables',
  'sec_pagetables',
  'swapcached',
  'zswap',
  'zswapped',
];

export class V2Driver implements CgroupDriver {
  readonly version = 2 as const;

  /** `root`: the cgroup2 mountpoint (/sys/fs/cgroup). */
  constructor(
    private readonly files: FileSource,
    private readonly root: string,
  ) {}

  paths(procCgroup: string): CgroupPaths {
    return v2Paths(procCgroup);
  }

  private read(path: string, file: string): string | undefined {
    return this.files.read(cgroupFile(this.root, path, file), ONE_RECORD);
  }

  /** A file that must exist. */
  private need(path: string, file: string): string {
    const text = this.read(path, file);
    if (text === undefined) throw new MissingFileError(cgroupFile(this.root, path, file));
    return text;
  }

  /** A setting: reused for up to SETTING_AGE_MS. */
  private setting(path: string, file: string): string | undefined {
    return this.files.read(cgroupFile(this.root, path, file), SETTING);
  }

  /** The smallest of a limit file over the cgroup and its ancestors; undefined when no level has the file. */
  private smallest(path: string, file: string): number | undefined {
    let min: number | undefined;
    for (const p of selfAndAncestors(path)) {
      const t = this.setting(p, file);
      if (t !== undefined) min = Math.min(min ?? Infinity, parseLimit(t, file));
    }
    return min;
  }

  memoryCurrent(cg: CgroupPaths): number {
    return parseCount(this.need(cg.memory, 'memory.current'), 'memory.current');
  }

  memoryStat(cg: CgroupPaths): MemoryStat {
    return pickKeyed(this.need(cg.memory, 'memory.stat'), STAT_KEYS);
  }

  memoryMax(cg: CgroupPaths): number {
    return this.smallest(cg.memory, 'memory.max') ?? Infinity;
  }

  swapMax(cg: CgroupPaths): number | undefined {
    return this.smallest(cg.memory, 'memory.swap.max');
  }

  swapCurrent(cg: CgroupPaths): number | undefined {
    const t = this.read(cg.memory, 'memory.swap.current');
    return t === undefined ? undefined : parseCount(t, 'memory.swap.current');
  }

  swappiness(): number | undefined {
    return undefined;
  }

  cpuMax(cg: CgroupPaths): number {
    let min = Infinity;
    for (const p of selfAndAncestors(cg.cpu)) {
      const t = this.setting(p, 'cpu.max');
      if (t !== undefined) min = Math.min(min, parseCpuMax(t));
    }
    return min;
  }

  /** The nearest cpuset.cpus.effective up the tree (the file exists only where the cpuset controller is enabled, and at the root). */
  cpusEffective(cg: CgroupPaths): number[] | undefined {
    for (const p of [...selfAndAncestors(cg.cpuset), '/']) {
      const t = this.setting(p, 'cpuset.cpus.effective');
      if (t !== undefined) return parseCpuList(t);
    }
    return undefined;
  }

  /** cpu.stat's usage lines are there whether or not the cpu controller is enabled. */
  cpuUsage(cg: CgroupPaths): CpuUsage {
    const t = this.need(cg.cpuacct, 'cpu.stat');
    const s = parseKeyed(t);
    if (s.user_usec === undefined || s.system_usec === undefined) throw new ParseError('cpu.stat', t);
    return { user: s.user_usec * 1000, system: s.system_usec * 1000 };
  }

  ioStat(cg: CgroupPaths): Map<string, IoCounters> {
    return parseIoStat(this.need(cg.io, 'io.stat'));
  }

  threadsCgroup(cg: CgroupPaths): string {
    return cg.pids;
  }

  threads(cg: CgroupPaths): number[] {
    const out: number[] = [];
    const walk = (p: string, depth: number) => {
      // Many records: read to the end.
      const text = this.files.read(cgroupFile(this.root, p, 'cgroup.threads'));
      if (text === undefined) {
        if (depth === 0) throw new MissingFileError(cgroupFile(this.root, p, 'cgroup.threads'));
        return;
      }
      out.push(...parseIdList(text));
      // cgroup.stat says whether there is anything below: no directory listing for a leaf.
      const stat = parseKeyed(this.read(p, 'cgroup.stat') ?? '');
      if ((stat.nr_descendants ?? 1) > 0 && depth < 16) {
        for (const sub of this.files.subdirs(cgroupFile(this.root, p, '').slice(0, -1)))
          walk(p === '/' ? `/${sub}` : `${p}/${sub}`, depth + 1);
      }
    };
    walk(this.threadsCgroup(cg), 0);
    return out;
  }

  describe(cg: CgroupPaths): string {
    return cg.memory;
  }
}
