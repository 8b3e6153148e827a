// Debian's 6.1 kernel for the VM: `apt-get download`ed, unpacked with dpkg-deb (never installed), kept
// in the checkout's test/vm/.cache/ as an uncompressed vmlinux plus the few modules the guest loads.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TsprocError } from '../../src/errors.js';
import { command } from './command.js';
import { aptUpdateOnce } from './host-packages.js';

/** The modules /init loads, in dependency order (under lib/modules/VERSION/kernel/). */
export const MODULES = [
  'drivers/virtio/virtio_ring',
  'drivers/virtio/virtio',
  'drivers/virtio/virtio_pci_modern_dev',
  'drivers/virtio/virtio_pci_legacy_dev',
  'drivers/virtio/virtio_pci',
  'drivers/block/virtio_blk',
  'net/9p/9pnet',
  'net/9p/9pnet_virtio',
  'fs/netfs/netfs',
  'fs/fscache/fscache',
  'fs/9p/9p',
  'fs/fuse/fuse',
  'fs/overlayfs/overlay',
];

export interface Kernel {
  /** e.g. 6.1.0-56-amd64 */
  version: string;
  /** the uncompressed ELF kernel */
  vmlinux: string;
  /** the .ko files, in the order to load them */
  modules: string[];
  /** taken from the cache (false: downloaded by this run) */
  cached: boolean;
}

const VERSION = /^6\.1\.0-(\d+)-amd64$/;

function fromDir(dir: string, cached: boolean): Kernel {
  return {
    version: basename(dir).replace(/^linux-/, ''),
    vmlinux: join(dir, 'vmlinux'),
    modules: MODULES.map((m) => join(dir, 'modules', `${basename(m)}.ko`)),
    cached,
  };
}

/**
 * The newest kernel in the cache (a directory appears only once complete: it is renamed into place).
 * One that lacks a module added to MODULES since it was cached is removed.
 */
function newestCached(cacheDir: string): Kernel | undefined {
  if (!existsSync(cacheDir)) return undefined;
  const versions = readdirSync(cacheDir)
    .map((name) => name.replace(/^linux-/, ''))
    .filter((v) => VERSION.test(v))
    .sort((a, b) => Number(VERSION.exec(b)![1]) - Number(VERSION.exec(a)![1]));
  if (versions.length === 0) return undefined;
  const dir = join(cacheDir, `linux-${versions[0]}`);
  const kernel = fromDir(dir, true);
  if ([kernel.vmlinux, ...kernel.modules].every((f) => existsSync(f))) return kernel;
  rmSync(dir, { recursive: true, force: true });
  return newestCached(cacheDir);
}

/** The version linux-image-amd64 depends on, i.e. the newest 6.1 kernel apt offers. */
function candidateVersion(): string {
  const ask = () => /linux-image-(6\.1\.0-\d+-amd64)\b/.exec(command('apt-cache', ['depends', 'linux-image-amd64']))?.[1];
  let version: string | undefined;
  try {
    version = ask();
  } catch {
    // no package lists yet
  }
  if (version === undefined) {
    aptUpdateOnce();
    version = ask();
  }
  if (version === undefined) throw new TsprocError('apt offers no linux-image-6.1.0-N-amd64 (linux-image-amd64 depends on none)');
  return version;
}

/** Decompress the xz payload of a bzImage (it starts at the bytes FD 37 7A 58 5A 00) into an ELF file. */
function extractVmlinux(vmlinuz: string, out: string): void {
  const image = readFileSync(vmlinuz);
  const start = image.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (start < 0) throw new TsprocError(`${vmlinuz} holds no xz stream`, { path: vmlinuz });
  // From a file, not a pipe: with --single-stream xz stops reading at the end of the payload (what
  // follows it in the image is not xz), and a writer still feeding it a pipe would get EPIPE.
  const payload = `${out}.xz`;
  writeFileSync(payload, image.subarray(start));
  const fd = openSync(out, 'w');
  try {
    command('xz', ['-dc', '--single-stream', payload], { stdoutFd: fd });
  } finally {
    closeSync(fd);
    rmSync(payload, { force: true });
  }
  const magic = readFileSync(out).subarray(0, 4);
  if (!magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))
    throw new TsprocError(`${out}: the decompressed kernel is not an ELF file`, { path: out });
}

/**
 * The kernel to boot: the newest cached one, or else download the version apt offers into tmp,
 * unpack it there, and keep what the VM needs in cacheDir.
 */
export function obtainKernel(cacheDir: string, tmp: string, log: (line: string) => void): Kernel {
  const cached = newestCached(cacheDir);
  if (cached) return cached;

  const version = candidateVersion();
  const pkg = `linux-image-${version}`;
  log(`downloading ${pkg} (kept in ${cacheDir})`);
  const work = join(tmp, 'kernel');
  mkdirSync(work);
  command('apt-get', ['download', '-qq', pkg], { cwd: work });
  const deb = readdirSync(work).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new TsprocError(`apt-get download ${pkg} left no .deb in ${work}`, { path: work });
  command('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);

  // Built beside its final place, then renamed: a cache directory is complete or absent.
  const building = join(cacheDir, `.building-${version}-${process.pid}`);
  mkdirSync(join(building, 'modules'), { recursive: true });
  try {
    extractVmlinux(join(work, 'root/boot', `vmlinuz-${version}`), join(building, 'vmlinux'));
    for (const m of MODULES) {
      const src = join(work, 'root/lib/modules', version, 'kernel', `${m}.ko`);
      writeFileSync(join(building, 'modules', `${basename(m)}.ko`), readFileSync(src));
    }
    const final = join(cacheDir, `linux-${version}`);
    if (existsSync(final))
      rmSync(building, { recursive: true }); // another run got there first
    else renameSync(building, final);
    rmSync(work, { recursive: true, force: true });
    return fromDir(final, false);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
}
