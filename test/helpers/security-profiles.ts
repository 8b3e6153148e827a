// Docker's default security profile, written out from docker's own sources (moby `oci/defaults.go`,
// `oci/caps/defaults.go`, docker 25 and on), and `runc spec`'s (runc 1.1, libcontainer/specconv's
// example), not imported from the code under test: tests compare tsproc's plan and real containers
// with these.
import { existsSync, statSync } from 'node:fs';

/** The paths docker masks (an empty read-only tmpfs over a directory, /dev/null over a file); docker 25 added powercap. */
export const DOCKER_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
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

/** The paths docker makes read-only. */
export const DOCKER_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's 14 default capabilities. */
export const DOCKER_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** `runc spec`'s capabilities (bounding, effective, permitted, ambient alike). */
export const RUNC_SPEC_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** `runc spec`'s masked paths: docker's but /sys/devices/virtual/powercap, in runc's order. */
export const RUNC_SPEC_MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];

/** Capability numbers (linux/capability.h) of the names above and of `runc spec`'s. */
export const CAPABILITY_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_RAW: 13,
  CAP_SYS_CHROOT: 18,
  CAP_MKNOD: 27,
  CAP_AUDIT_WRITE: 29,
  CAP_SETFCAP: 31,
};

/** The capabilities in a mask such as /proc/PID/status's CapEff, by name (a bit not named above as `bit N`), sorted. */
export function capabilityNames(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((mask >> BigInt(bit)) & 1n) === 0n) continue;
    names.push(Object.entries(CAPABILITY_NUMBERS).find(([, n]) => n === bit)?.[0] ?? `bit ${bit}`);
  }
  return names.sort();
}

/** /proc/sys's UTS-namespaced domain name: root may write it unless /proc/sys is read-only, and only its own namespace's. */
export const PROC_SYS_PROBE = '/proc/sys/kernel/domainname';

/**
 * A shell probe (busybox sh and awk) of the security profile a container's process has, one fact a line:
 *   cap CapEff HEX | cap CapBnd HEX | nnp 0|1 | seccomp 0|2   (2: a filter, proc(5)'s Seccomp)
 *   mask PATH: absent | dir N entries MOUNT | file TYPE N bytes MOUNT   (for each of `masked`)
 *   ro PATH: absent | MOUNT                                              (for each of `readonly`)
 *   write /proc/sys/kernel/domainname: written | refused
 * MOUNT is the mount at exactly that path from the kernel's mount table, "ro|rw FSTYPE", or "no mount";
 * TYPE is "char MAJ:MIN" or "regular". Run it in a container only: in the host's namespaces, the write
 * would change the host's domain name.
 */
export function profileProbe(masked: string[], readonly: string[]): string {
  const mount = `awk -v p="$p" '$5 == p { for (i = 7; $i != "-"; i++); split($6, o, ","); m = o[1] " " $(i + 1) } END { print m ? m : "no mount" }' /proc/self/mountinfo`;
  return [
    'grep -E "^Cap(Eff|Bnd):" /proc/self/status | while read k v; do echo "cap ${k%:} $v"; done',
    'echo "nnp $(grep NoNewPrivs: /proc/self/status | cut -f2)"',
    'echo "seccomp $(grep Seccomp: /proc/self/status | cut -f2)"',
    `for p in ${masked.join(' ')}; do`,
    '  if [ -d "$p" ]; then echo "mask $p: dir $(ls -A "$p" | wc -l) entries $(' + mount + ')";',
    '  elif [ -e "$p" ]; then t=regular; [ -c "$p" ] && t="char $(stat -c %t:%T "$p")"; echo "mask $p: file $t $(head -c 64 "$p" | wc -c) bytes $(' +
      mount +
      ')";',
    '  else echo "mask $p: absent"; fi',
    'done',
    `for p in ${readonly.join(' ')}; do [ -e "$p" ] && echo "ro $p: $(${mount})" || echo "ro $p: absent"; done`,
    `{ echo tsproc-test > ${PROC_SYS_PROBE}; } 2>/dev/null && echo "write ${PROC_SYS_PROBE}: written" || echo "write ${PROC_SYS_PROBE}: refused"`,
  ].join('\n');
}

/** What profileProbe says of a masked path inside a container that masks it, from what the host has there. */
export function maskedLine(path: string): string {
  if (!existsSync(path)) return `mask ${path}: absent`;
  // a directory: an empty read-only tmpfs over it; a file: /dev/null (1:3) bound over it
  return statSync(path).isDirectory() ? `mask ${path}: dir 0 entries ro tmpfs` : `mask ${path}: file char 1:3 0 bytes`;
}

/** profileProbe's lines by what they are about ("cap CapEff", "mask /proc/keys", ...). */
export function probeFacts(stdout: string): Map<string, string> {
  return new Map(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) =>
        /^(cap|nnp|seccomp) /.test(l)
          ? [l.split(' ').slice(0, -1).join(' '), l.split(' ').pop()!]
          : [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)],
      ),
  );
}
