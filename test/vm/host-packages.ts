// The Debian packages the VM harness needs on the host, installed with apt-get when missing.
import { spawnSync } from 'node:child_process';
import { command } from './command.js';

export const HOST_PACKAGES = [
  'qemu-system-x86',
  // static: the initramfs has no libc
  'busybox-static',
  // unpacks the kernel's xz payload into a vmlinux that QEMU boots directly
  'xz-utils',
];

const aptEnv = () => ({ ...process.env, DEBIAN_FRONTEND: 'noninteractive' });

function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.endsWith(' installed');
}

let updated = false;
/** `apt-get update`, at most once per run: before installing, or when a look-up found nothing. */
export function aptUpdateOnce(): void {
  if (updated) return;
  command('apt-get', ['update', '-qq'], { env: aptEnv() });
  updated = true;
}

/** Install what is missing; returns the packages installed. */
export function ensureHostPackages(log: (line: string) => void): string[] {
  const missing = HOST_PACKAGES.filter((pkg) => !installed(pkg));
  if (missing.length === 0) return [];
  log(`installing ${missing.join(' ')} with apt-get`);
  aptUpdateOnce();
  command('apt-get', ['install', '-y', '-qq', ...missing], { env: aptEnv() });
  return missing;
}
