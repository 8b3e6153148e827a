// The daemon's image without a registry: a root holding the host's Node, the few programs the daemon
// runs (mount, umount, stat, sh; test for the DaemonSet's readiness probe) with the libraries ldd names,
// and this checkout's production files at /opt/tsproc, as deploy/docker/Dockerfile's image has them.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './runner.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where the Dockerfile puts the checkout (its WORKDIR). */
export const IMAGE_CHECKOUT = '/opt/tsproc';
/** The programs the daemon runs besides Node: mount(8) and umount(8), stat(1), the bin's sh, and test(1). */
const PROGRAMS = ['/usr/bin/mount', '/usr/bin/umount', '/usr/bin/stat', '/bin/sh', '/usr/bin/test'];

/** The libraries a program loads, as ldd names them (the loader included). */
function libraries(program: string): string[] {
  const r = spawnSync('ldd', [program], { encoding: 'utf8' });
  if (r.status !== 0) return []; // static
  return [...r.stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** Copy `path` into `root` at its real place, and its name there as a link if it is one. */
function copyInto(root: string, path: string): void {
  const real = realpathSync(path);
  mkdirSync(join(root, dirname(real)), { recursive: true });
  if (!existsSync(join(root, real))) copyFileSync(real, join(root, real));
  const named = join(realpathSync(dirname(path)), basename(path));
  if (named !== real && !existsSync(join(root, named))) {
    mkdirSync(join(root, dirname(named)), { recursive: true });
    symlinkSync(real, join(root, named));
  }
}

/** The production dependencies' directories (`npm ls --omit=dev`: what `npm ci --omit=dev` installs), from the local tree. */
function productionModules(): string[] {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: CHECKOUT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ls --omit=dev: ${r.stderr}`);
  return r.stdout.split('\n').filter((p) => p.includes('/node_modules/'));
}

/** A root directory for `docker import`: Node, the programs, their libraries, and the checkout at /opt/tsproc. */
export function daemonImageRoot(t: Teardown): string {
  const root = tempDir(t, 'daemon-image');
  // the host's merged /usr links (/bin -> usr/bin, ...), so that every path resolves as it does here
  for (const top of ['bin', 'lib', 'lib64', 'sbin']) {
    if (existsSync(`/${top}`) && lstatSync(`/${top}`).isSymbolicLink()) symlinkSync(readlinkSync(`/${top}`), `${root}/${top}`);
  }
  const node = realpathSync(process.execPath);
  for (const program of [node, ...PROGRAMS]) {
    copyInto(root, program);
    for (const lib of libraries(program)) copyInto(root, lib);
  }
  // the bin runs `node` from PATH
  if (!existsSync(`${root}/usr/bin/node`)) symlinkSync(node, `${root}/usr/bin/node`);
  for (const dir of ['proc', 'sys', 'dev', 'run', 'etc', 'var/lib']) mkdirSync(`${root}/${dir}`, { recursive: true });
  mkdirSync(`${root}/tmp`, { mode: 0o1777 });
  chmodSync(`${root}/tmp`, 0o1777);

  // the checkout as the Dockerfile leaves it: built, production dependencies only, no tests
  const opt = `${root}${IMAGE_CHECKOUT}`;
  mkdirSync(opt, { recursive: true });
  for (const part of ['bin', 'package.json', 'native/build/tsproc-helper'])
    cpSync(join(CHECKOUT, part), join(opt, part), { recursive: true });
  cpSync(join(CHECKOUT, 'dist'), join(opt, 'dist'), { recursive: true, filter: (src) => !/\/dist\/(test|bench)(\/|$)/.test(src) });
  for (const dir of productionModules()) cpSync(dir, join(opt, dir.slice(CHECKOUT.length)), { recursive: true });
  return root;
}
