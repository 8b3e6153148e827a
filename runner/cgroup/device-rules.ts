// The devices a container may open or make (mknod): an allow list, everything else refused; the
// v1 devices controller's lines, and the rules the helper compiles into a cgroup2 BPF filter.

export interface DeviceRule {
  type: 'c' | 'b';
  /** undefined: any */
  major?: number;
  minor?: number;
  /** r, w and m (mknod), as devices.allow writes them */
  access: string;
}

const rwm = (major: number, minor?: number): DeviceRule => ({ type: 'c', major, ...(minor !== undefined ? { minor } : {}), access: 'rwm' });

/**
 * What /dev holds (null, zero, full, random, urandom, tty, ptmx and the pty slaves of the
 * container's own devpts), as runc and docker allow them; not the host's console (5:1: its input
 * is the machine's) nor tun (10:200), and mknod of these only, not of every device.
 */
export const DEFAULT_DEVICES: DeviceRule[] = [rwm(1, 3), rwm(1, 5), rwm(1, 7), rwm(1, 8), rwm(1, 9), rwm(5, 0), rwm(5, 2), rwm(136)];

/** "c 1:3 rwm", "c 136:* rwm" */
export function deviceRuleText(r: DeviceRule): string {
  return `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`;
}

/** v1: refuse everything, then allow the list (written before anything runs in the cgroup). */
export function v1DeviceWrites(rules: DeviceRule[]): { file: string; value: string }[] {
  return [{ file: 'devices.deny', value: 'a' }, ...rules.map((r) => ({ file: 'devices.allow', value: deviceRuleText(r) }))];
}
