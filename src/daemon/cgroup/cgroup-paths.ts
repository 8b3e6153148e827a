// Cgroup paths: a process's cgroups from /proc/PID/cgroup, ancestors, files under a mountpoint.
import type { CgroupPaths } from './driver.js';
import { fromBytes } from '../io/file-source.js';
import { parseProcCgroup } from '../../cgroup-layout.js';

/** Strip a trailing /init.scope (systemd inside a container moves its init there) as lxcfs does. */
export function pruneInitScope(path: string): string {
  if (path === '/init.scope') return '/';
  return path.endsWith('/init.scope') ? path.slice(0, -'/init.scope'.length) : path;
}

/**
 * Paths from /proc/PID/cgroup for a v1 host; controllers missing from the file are at the root. The
 * text is a byte string, as FileSource gives it: the paths' UTF-8 is decoded.
 */
export function v1Paths(procCgroup: string): CgroupPaths {
  const m = parseProcCgroup(fromBytes(procCgroup));
  const get = (c: string) => pruneInitScope(m.get(c) ?? '/');
  return { memory: get('memory'), cpu: get('cpu'), cpuacct: get('cpuacct'), cpuset: get('cpuset'), io: get('blkio'), pids: get('pids') };
}

/** Paths from /proc/PID/cgroup (a byte string) for a v2 host: the "0::" line for every resource. */
export function v2Paths(procCgroup: string): CgroupPaths {
  const p = pruneInitScope(parseProcCgroup(fromBytes(procCgroup)).get('') ?? '/');
  return { memory: p, cpu: p, cpuacct: p, cpuset: p, io: p, pids: p };
}

/** The ancestors of a cgroup path below the root, nearest first: /a/b/c → /a/b/c, /a/b, /a. */
export function selfAndAncestors(path: string): string[] {
  const out: string[] = [];
  let p = path;
  while (p !== '/' && p !== '') {
    out.push(p);
    const slash = p.lastIndexOf('/');
    p = slash <= 0 ? '/' : p.slice(0, slash);
  }
  return out;
}

/** A file of a cgroup under a mountpoint. */
export function cgroupFile(mount: string, path: string, file: string): string {
  return path === '/' ? `${mount}/${file}` : `${mount}${path}/${file}`;
}
