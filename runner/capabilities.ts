// Capability names and numbers (linux/capability.h), docker's default set, and --cap-add/--cap-drop.
import { TsprocError } from '../src/errors.js';

/** Index = capability number. */
export const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/** Docker's default set. */
export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
].map((c) => `CAP_${c}`);

/** "net_admin", "CAP_NET_ADMIN" or "ALL" → the canonical name (or ALL). */
export function capabilityName(flag: string, value: string): string {
  const upper = value.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!CAPABILITIES.includes(name))
    throw new TsprocError(`${flag}: unknown capability ${JSON.stringify(value)}`, { code: 'EINVAL', exitCode: 125 });
  return name;
}

/** docker's rule: start from the defaults, drop (ALL drops everything), then add (ALL adds everything). */
export function capabilitySet(add: string[], drop: string[], privileged: boolean): string[] {
  const adds = add.map((v) => capabilityName('--cap-add', v));
  const drops = drop.map((v) => capabilityName('--cap-drop', v));
  if (privileged || adds.includes('ALL')) return [...CAPABILITIES];
  let set = drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
  for (const c of adds) if (!set.includes(c)) set = [...set, c];
  return CAPABILITIES.filter((c) => set.includes(c));
}

/** The bit mask the helper wants. */
export function capabilityMask(names: string[]): bigint {
  return names.reduce((m, n) => m | (1n << BigInt(CAPABILITIES.indexOf(n))), 0n);
}
