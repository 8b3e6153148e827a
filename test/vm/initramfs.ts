// Builds the VM's initramfs: static busybox, the kernel modules, and test/vm/init.sh as /init.
import { closeSync, copyFileSync, mkdirSync, openSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { command } from './command.js';

export const BUSYBOX = '/bin/busybox';

/**
 * Lay the tree out in dir and pack it as a newc cpio archive (uncompressed: the kernel unpacks it
 * faster than it would gunzip it under emulation). Returns the archive's path.
 */
export function buildInitramfs(dir: string, initScript: string, modules: string[]): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'modules'));
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  symlinkSync('busybox', join(dir, 'bin/sh')); // for /init's #!/bin/sh
  copyFileSync(initScript, join(dir, 'init'));
  chmodSync(join(dir, 'init'), 0o755);
  for (const m of modules) copyFileSync(m, join(dir, 'modules', basename(m)));
  writeFileSync(join(dir, 'modules/modules.order'), modules.map((m) => `${basename(m)}\n`).join(''));

  const entries = [
    'bin',
    'bin/busybox',
    'bin/sh',
    'init',
    'modules',
    'modules/modules.order',
    ...modules.map((m) => `modules/${basename(m)}`),
  ];
  const archive = `${dir}.cpio`;
  const fd = openSync(archive, 'w');
  try {
    command(BUSYBOX, ['cpio', '-o', '-H', 'newc'], { cwd: dir, input: Buffer.from(entries.join('\n') + '\n'), stdoutFd: fd });
  } finally {
    closeSync(fd);
  }
  return archive;
}
