// The container's filesystem as helper operations: the root, /proc, /dev, /sys and its cgroups, the
// lxcfs files, /etc's three files, volumes, and the paths runc masks or makes read-only.
import { posix } from 'node:path';
import { SERVED_PATHS } from '../src/served-files.js';
import type { CgroupPlan } from './cgroup/cgroup-plan.js';
import { type HelperOp, MS, type PrepareMount } from './helper-config.js';
import { overlayMountData } from './image/prepare-root.js';
import type { RootSpec, RunPlan } from './plan.js';

/** runc's masked paths: unreadable inside (an empty read-only tmpfs, or /dev/null). */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** runc's read-only paths. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/** The files in the container's state directory bound over a --rootfs root's (an image's init layer has them). */
export const ETC_FILES = ['hosts', 'hostname', 'resolv.conf'];

const NO_SUID_DEV_EXEC = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/**
 * The directory that becomes / and the mount that makes it one (pivot_root wants a mount): a bind of
 * the directory onto itself, or the overlay at its target. `nodev` (all but --privileged): a device
 * node in the root (an image's, or one made with CAP_MKNOD) cannot be opened; docker gets the same
 * from its devices cgroup (docs/runner.md, "Device nodes").
 */
export function rootMounts(root: RootSpec, nodev: boolean): { rootfs: string; prepare: PrepareMount[] } {
  const dev = nodev ? MS.NODEV : 0;
  if (root.kind === 'dir') {
    return { rootfs: root.path, prepare: [{ source: root.path, target: root.path, fstype: '', flags: MS.BIND | MS.REC | dev, data: '' }] };
  }
  return {
    rootfs: root.target,
    prepare: [{ source: 'overlay', target: root.target, fstype: 'overlay', flags: dev, data: overlayMountData(root) }],
  };
}

function mount(source: string, target: string, fstype: string, flags: number, data = ''): HelperOp {
  return { op: 'mount', source, target, fstype, flags, data };
}

/** /sys/fs/cgroup: the container's own cgroup, read-only (JVMs, Go and Node read their limits there). */
function cgroupMounts(cg: CgroupPlan, readonly: number): HelperOp[] {
  if (cg.version === 2) return [mount(cg.hierarchies[0]!.dir, '/sys/fs/cgroup', '', MS.BIND | NO_SUID_DEV_EXEC | readonly)];
  const ops: HelperOp[] = [mount('tmpfs', '/sys/fs/cgroup', 'tmpfs', NO_SUID_DEV_EXEC, 'mode=755')];
  for (const h of cg.hierarchies) {
    const name = posix.basename(h.mountpoint);
    ops.push(
      { op: 'mkdir', path: `/sys/fs/cgroup/${name}`, mode: 0o755 },
      mount(h.dir, `/sys/fs/cgroup/${name}`, '', MS.BIND | NO_SUID_DEV_EXEC | readonly),
    );
    // a hierarchy holding several controllers ("cpu,cpuacct") is also found under each one's name
    for (const c of h.controllers)
      if (c !== name && !c.startsWith('name=')) ops.push({ op: 'symlink', target: name, path: `/sys/fs/cgroup/${c}` });
  }
  if (readonly) ops.push({ op: 'remount', path: '/sys/fs/cgroup', flags: MS.RDONLY });
  return ops;
}

export function mountTable(plan: RunPlan, stateDir: string, cg: CgroupPlan): HelperOp[] {
  const ro = plan.privileged ? 0 : MS.RDONLY;
  const ops: HelperOp[] = [
    // /proc of the container's PID namespace
    { op: 'mkdir', path: '/proc', mode: 0o555 },
    mount('proc', '/proc', 'proc', NO_SUID_DEV_EXEC),
    // a minimal /dev: a tmpfs (nodev: a node made in it cannot be opened) with the host's harmless
    // devices bound in (a bind keeps the device usable)
    { op: 'mkdir', path: '/dev', mode: 0o755 },
    mount('tmpfs', '/dev', 'tmpfs', MS.NOSUID | MS.NODEV | MS.STRICTATIME, 'mode=755,size=65536k'),
    ...DEVICES.flatMap((d): HelperOp[] => [{ op: 'file', path: `/dev/${d}` }, mount(`/dev/${d}`, `/dev/${d}`, '', MS.BIND)]),
    { op: 'mkdir', path: '/dev/pts', mode: 0o755 },
    mount('devpts', '/dev/pts', 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5'),
    { op: 'symlink', target: 'pts/ptmx', path: '/dev/ptmx' },
    { op: 'mkdir', path: '/dev/shm', mode: 0o1777 },
    mount('shm', '/dev/shm', 'tmpfs', NO_SUID_DEV_EXEC, 'mode=1777,size=65536k'),
    { op: 'mkdir', path: '/dev/mqueue', mode: 0o755 },
    mount('mqueue', '/dev/mqueue', 'mqueue', NO_SUID_DEV_EXEC),
    // with -t the helper binds its pseudo-terminal here
    ...(plan.process.tty ? [{ op: 'file', path: '/dev/console' } as const] : []),
    { op: 'symlink', target: '/proc/self/fd', path: '/dev/fd' },
    { op: 'symlink', target: '/proc/self/fd/0', path: '/dev/stdin' },
    { op: 'symlink', target: '/proc/self/fd/1', path: '/dev/stdout' },
    { op: 'symlink', target: '/proc/self/fd/2', path: '/dev/stderr' },
    // /sys read-only, with the container's cgroup at /sys/fs/cgroup
    { op: 'mkdir', path: '/sys', mode: 0o555 },
    mount('sysfs', '/sys', 'sysfs', NO_SUID_DEV_EXEC | ro),
    ...cgroupMounts(cg, ro),
  ];
  // the files an lxcfs-compatible mount serves, over the container's own (the list `tsproc mounts` prints)
  if (plan.lxcfsRoot) for (const f of SERVED_PATHS) ops.push(mount(`${plan.lxcfsRoot}/${f}`, `/${f}`, '', MS.BIND));
  // an image's root has them in its init layer, written by tsproc: a container may rewrite them
  if (!plan.image)
    for (const f of ETC_FILES) ops.push({ op: 'file', path: `/etc/${f}` }, mount(`${stateDir}/${f}`, `/etc/${f}`, '', MS.BIND));
  for (const v of plan.volumes) {
    ops.push(v.type === 'dir' ? { op: 'mkdir', path: v.target, mode: 0o755 } : { op: 'file', path: v.target });
    ops.push(mount(v.source, v.target, '', MS.BIND | MS.REC | (v.readonly ? MS.RDONLY : 0)));
  }
  // -w: made if missing (root's, 0755), as docker does; after the volumes, so that it lands in one
  if (plan.process.cwd !== '/') ops.push({ op: 'mkdir', path: plan.process.cwd, mode: 0o755 });
  if (!plan.privileged) {
    for (const p of MASKED_PATHS) ops.push({ op: 'mask', path: p });
    for (const p of READONLY_PATHS) ops.push({ op: 'readonly', path: p });
  }
  return ops;
}
