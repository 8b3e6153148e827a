// The helper config native/tsproc-helper reads (STATE/containers/ID/helper.conf, exec-*.conf): one key and
// its fields a line, fields %-escaped (bytes <= 0x20, '%' and 0x7f as %XX; the empty string as "%").
// native/config.c is the decoder.
import type { DeviceRule } from './cgroup/device-rules.js';

/** mount(2) flags (linux/mount.h). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

/** The in-root operations, done in order before pivot_root; paths are inside the root. */
export type HelperOp =
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'file'; path: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  | { op: 'remount'; path: string; flags: number }
  /** a directory gets an empty read-only tmpfs, a file /dev/null; absent paths are skipped */
  | { op: 'mask'; path: string }
  | { op: 'readonly'; path: string };

/** A host-side mount made in the container's mount namespace before the root is opened. */
export interface PrepareMount {
  source: string;
  target: string;
  fstype: string;
  flags: number;
  data: string;
}

export type Namespace = 'pid' | 'mount' | 'uts' | 'ipc' | 'net' | 'cgroup';

export interface HelperConfig {
  id: string;
  /** exec: the running container's first process, whose namespaces the helper joins */
  targetPid?: number;
  rootfs: string;
  namespaces: Namespace[];
  hostname?: string;
  loopback: boolean;
  readonlyRoot: boolean;
  /** capabilities kept; undefined keeps every one (--privileged) */
  caps?: bigint;
  noNewPrivs: boolean;
  user: { uid: number; gid: number; groups: number[] };
  cwd: string;
  env: string[];
  args: string[];
  init: boolean;
  /** -t: a pseudo-terminal; 'stdin' relays our stdin to it too (-i) */
  tty?: 'stdin' | 'output';
  /** -i without -t: our stdin reaches the command through a pipe the helper relays, never as our own descriptor */
  stdin?: true;
  cgroupProcs: string[];
  /** cgroup2: the devices the container may use, and the cgroups the helper's BPF filter of them goes on */
  devices?: { rules: DeviceRule[]; filters: string[] };
  oomCounter?: string;
  exitFile?: string;
  /** the exit status again, written in place into this empty file (`tsproc wait` links to it) */
  waitFile?: string;
  monitorPidFile?: string;
  containerPidFile?: string;
  /** the container's output, line records, rotated past maxSize */
  log?: { path: string; maxSize: number };
  /** the FIFO the monitor reads "kill N" from */
  control?: string;
  /** the seccomp filter the command installs last (struct sock_filter[]); `listener`: its listener
   *  goes to the monitor (`sysinfo.socket`) before the command runs */
  seccomp?: { program: Buffer; flags: number; listener: boolean };
  /** --lxcfs: run: the monitor answers sysinfo(2) (from the container's own /proc files) and takes
   *  the listeners of `exec`'d processes on `socket`; exec: where the command's listener goes */
  sysinfo?: { socket: string };
  prepare: PrepareMount[];
  ops: HelperOp[];
  /** in this order, after the container ended: unmount, then remove cgroups, then release the
   *  name (--rm; only while it still names this id), then remove the record and the state */
  cleanup: { umount: string[]; rmdir: string[]; name?: { path: string; id: string }; remove: string[] };
}

/** The command's stdio: a terminal (-t, with -i fed our stdin too), else the helper's pipes, and
 *  with -i our stdin relayed into one (never our own descriptors: TIOCSTI could type into our shell). */
export function stdioConfig(tty: boolean, stdin: boolean): Pick<HelperConfig, 'tty' | 'stdin'> {
  if (tty) return { tty: stdin ? 'stdin' : 'output' };
  return stdin ? { stdin: true } : {};
}

/** Printable ASCII but `%`: a field of only these is its own escape. */
const PLAIN = /^[\x21-\x24\x26-\x7e]+$/;

export function escapeField(s: string): string {
  if (s === '') return '%';
  if (PLAIN.test(s)) return s; // most fields (paths, numbers): nothing to escape, and a config has hundreds
  return Buffer.from(s, 'utf8').reduce(
    (out, b) =>
      out + (b <= 0x20 || b === 0x25 || b === 0x7f ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b)),
    '',
  );
}

/** The inverse (the helper's events use the same escaping). */
export function unescapeField(s: string): string {
  if (s === '%') return '';
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'latin1'));
  }
  return Buffer.from(bytes).toString('utf8');
}

const hex = (n: number | bigint) => n.toString(16);

function opFields(o: HelperOp): (string | number)[] {
  switch (o.op) {
    case 'mkdir':
      return [o.path, o.mode.toString(8)];
    case 'file':
    case 'mask':
    case 'readonly':
      return [o.path];
    case 'symlink':
      return [o.target, o.path];
    case 'mount':
      return [o.source, o.target, o.fstype, hex(o.flags), o.data];
    case 'remount':
      return [o.path, hex(o.flags)];
  }
}

/** A line's words for messages: "mount proc on /proc". */
export function describeOp(o: HelperOp): string {
  switch (o.op) {
    case 'mkdir':
      return `create the directory ${o.path}`;
    case 'file':
      return `create the mount point ${o.path}`;
    case 'symlink':
      return `create the link ${o.path} -> ${o.target}`;
    case 'mount':
      return o.flags & MS.BIND
        ? `bind ${o.source} to ${o.target}${o.flags & MS.RDONLY ? ' read-only' : ''}`
        : `mount ${o.fstype} on ${o.target}`;
    case 'remount':
      return `remount ${o.path}`;
    case 'mask':
      return `mask ${o.path}`;
    case 'readonly':
      return `make ${o.path} read-only`;
  }
}

export interface EncodedConfig {
  text: string;
  /** what the line with this number (1-based) does, for error messages */
  describe(line: number): string | undefined;
}

export function encodeHelperConfig(c: HelperConfig): EncodedConfig {
  const lines: { fields: (string | number)[]; what?: string }[] = [];
  const add = (key: string, fields: (string | number)[] = [], what?: string) =>
    lines.push({ fields: [key, ...fields], ...(what ? { what } : {}) });
  add('tsproc-helper-config', [1]);
  add('id', [c.id]);
  if (c.targetPid !== undefined) add('target-pid', [c.targetPid]);
  else add('rootfs', [c.rootfs]);
  add('namespaces', [c.namespaces.join(',')]);
  if (c.hostname !== undefined) add('hostname', [c.hostname]);
  if (c.loopback) add('loopback');
  if (c.readonlyRoot) add('readonly-root');
  if (c.caps !== undefined) add('caps', [hex(c.caps)]);
  if (c.noNewPrivs) add('no-new-privs');
  add('user', [c.user.uid, c.user.gid]);
  add('groups', c.user.groups);
  add('cwd', [c.cwd]);
  for (const e of c.env) add('env', [e]);
  for (const a of c.args) add('arg', [a]);
  if (c.init) add('init');
  if (c.tty) add('tty', [c.tty]);
  if (c.stdin) add('stdin');
  for (const r of c.devices?.rules ?? []) add('device', [r.type, r.major ?? '*', r.minor ?? '*', r.access]);
  for (const d of c.devices?.filters ?? [])
    add('device-filter', [d], `refuse the container other devices (a BPF filter on the cgroup ${d})`);
  for (const p of c.cgroupProcs) add('cgroup-procs', [p], `join the cgroup ${p.replace(/\/cgroup\.procs$/, '')}`);
  if (c.oomCounter) add('oom-counter', [c.oomCounter]);
  if (c.exitFile) add('exit-file', [c.exitFile]);
  if (c.waitFile) add('wait-file', [c.waitFile]);
  if (c.monitorPidFile) add('monitor-pid-file', [c.monitorPidFile]);
  if (c.containerPidFile) add('container-pid-file', [c.containerPidFile]);
  if (c.log) add('log', [c.log.path, c.log.maxSize]);
  if (c.control) add('control', [c.control]);
  if (c.seccomp) add('seccomp', [c.seccomp.program.toString('hex'), hex(c.seccomp.flags)], 'install the seccomp filter');
  if (c.seccomp?.listener) add('seccomp-listener');
  if (c.sysinfo) add('sysinfo-socket', [c.sysinfo.socket], `reach the container's monitor at ${c.sysinfo.socket}`);
  for (const m of c.prepare) {
    add(
      'prepare-mount',
      [m.source, m.target, m.fstype, hex(m.flags), m.data],
      m.flags & MS.BIND ? `bind ${m.source} to ${m.target}` : `mount ${m.fstype} on ${m.target}`,
    );
  }
  for (const o of c.ops) add('op', [o.op, ...opFields(o)], describeOp(o));
  for (const p of c.cleanup.umount) add('cleanup-umount', [p]);
  for (const p of c.cleanup.rmdir) add('cleanup-rmdir', [p]);
  if (c.cleanup.name) add('cleanup-name', [c.cleanup.name.path, c.cleanup.name.id]);
  for (const p of c.cleanup.remove) add('cleanup-remove', [p]);
  return {
    text: lines.map((l) => l.fields.map((f) => escapeField(String(f))).join(' ')).join('\n') + '\n',
    describe: (n) => lines[n - 1]?.what,
  };
}
