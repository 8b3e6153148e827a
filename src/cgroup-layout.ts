// Which cgroup layout the host runs (v1, hybrid or pure v2) and where each controller is mounted.
import { parseMountinfo, type MountEntry } from './mountinfo.js';
import { readFileSync } from 'node:fs';

export type LayoutKind = 'v1' | 'hybrid' | 'v2';

/** The v1 controllers tsproc reads or writes. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'pids'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Every v1 controller the kernel may mount, and named hierarchies (name=systemd) besides. */
const V1_KNOWN = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'perf_event',
  'net_prio',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'debug',
]);

/** A mounted v1 hierarchy: its controllers, or its name (`name=systemd`). */
export interface V1Hierarchy {
  mountpoint: string;
  controllers: string[];
}

export interface CgroupLayout {
  kind: LayoutKind;
  /** v1 and hybrid: the mountpoint of each v1 controller (cpu and cpuacct may share one) */
  v1: Partial<Record<V1Controller, string>>;
  /** v2 and hybrid: the cgroup2 mountpoint (in hybrid it holds no controllers) */
  unified: string | undefined;
  /** v1 and hybrid: every v1 hierarchy, those tsproc reads and the others (the runner joins them all) */
  v1Hierarchies?: V1Hierarchy[];
}

/**
 * Read the layout from mountinfo. Only mounts whose root is "/" count (a container's view of a
 * sub-hierarchy is not the host's layout).
 */
export function detectLayout(mounts: MountEntry[]): CgroupLayout {
  const v1: CgroupLayout['v1'] = {};
  const v1Hierarchies: V1Hierarchy[] = [];
  let unified: string | undefined;
  for (const m of mounts) {
    if (m.root !== '/') continue;
    if (m.fstype === 'cgroup2') {
      // Prefer /sys/fs/cgroup (pure v2) over anything else (hybrid's /sys/fs/cgroup/unified).
      if (unified === undefined || m.mountpoint === '/sys/fs/cgroup') unified = m.mountpoint;
    } else if (m.fstype === 'cgroup') {
      const opts = m.superOptions.split(',');
      for (const c of V1_CONTROLLERS) if (opts.includes(c) && v1[c] === undefined) v1[c] = m.mountpoint;
      const controllers = opts.filter((o) => V1_KNOWN.has(o) || o.startsWith('name='));
      // a hierarchy mounted twice is one hierarchy
      if (controllers.length > 0 && !v1Hierarchies.some((h) => h.controllers.join() === controllers.join()))
        v1Hierarchies.push({ mountpoint: m.mountpoint, controllers });
    }
  }
  const hasV1 = Object.keys(v1).length > 0;
  if (!hasV1 && unified === undefined) throw new Error('no cgroup filesystem is mounted');
  return {
    kind: hasV1 ? (unified === undefined ? 'v1' : 'hybrid') : 'v2',
    v1,
    unified,
    ...(v1Hierarchies.length > 0 ? { v1Hierarchies } : {}),
  };
}

let cached: CgroupLayout | undefined;
/** The host's layout, read once per process. */
export function hostLayout(): CgroupLayout {
  cached ??= detectLayout(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')));
  return cached;
}

/** Parse /proc/PID/cgroup: v1 controller → path, and '' → the v2 path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1);
    const controllers = line.slice(first + 1, second);
    if (controllers === '') out.set('', path);
    else for (const c of controllers.split(',')) out.set(c, path);
  }
  return out;
}
