// Parses /proc/self/mountinfo: which mounts sit on a directory, and of what type.
import { readFileSync } from 'node:fs';

export interface MountEntry {
  id: number;
  parent: number;
  major: number;
  minor: number;
  root: string;
  mountpoint: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

/** Undo mountinfo's octal escapes (\040 for a space, \011, \012, \134). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    const [major, minor] = f[2]!.split(':').map(Number);
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      major: major!,
      minor: minor!,
      root: unescape(f[3]!),
      mountpoint: unescape(f[4]!),
      options: f[5]!,
      fstype: f[sep + 1]!,
      source: unescape(f[sep + 2]!),
      superOptions: f[sep + 3] ?? '',
    });
  }
  return out;
}

export function readMountinfo(path = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(readFileSync(path, 'utf8'));
}

/** The mounts whose mountpoint is exactly `dir` (an absolute, resolved path), last mounted last. */
export function mountsAt(dir: string, entries = readMountinfo()): MountEntry[] {
  return entries.filter((e) => e.mountpoint === dir);
}
