// A container's init layer, between the image and its writable layer (as docker has): /etc/hosts, /etc/hostname
// and /etc/resolv.conf with the runner's contents, and the mount points the runner needs even when the image
// lacks them (/proc, /sys, /dev, /dev/pts, /dev/shm), so a --read-only root still has them.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The runner renders these (localhost plus --add-host entries; the hostname; the resolver). */
export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

const DIRS = ['etc', 'proc', 'sys', 'dev', 'dev/pts', 'dev/shm'];

/** Writes the init layer into `dir` (made, must not exist). */
export function writeInitLayer(dir: string, etc: EtcFiles): void {
  mkdirSync(dir, { mode: 0o755 });
  for (const d of DIRS) mkdirSync(join(dir, d), { mode: 0o755 });
  writeFileSync(join(dir, 'etc/hosts'), etc.hosts, { mode: 0o644 });
  writeFileSync(join(dir, 'etc/hostname'), etc.hostname.endsWith('\n') ? etc.hostname : `${etc.hostname}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'etc/resolv.conf'), etc.resolvConf, { mode: 0o644 });
  symlinkSync('/proc/mounts', join(dir, 'etc/mtab'));
}
