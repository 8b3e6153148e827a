// Images for `tsproc run IMAGE` tests, built from Debian's busybox-static and imported into a sandbox's data
// root; a tree listed by busybox itself, in a container or on the host, to compare the two.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestImage, listing, remadeLayer, tarBytes, tarDir, writeOciLayout, xattrs } from './images.js';
import { busyboxRoot, type Sandbox } from './runner.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

const T0 = new Date('2024-05-06T07:08:09Z');

/** A busybox root (every applet, passwd with root, alice and nobody) with /etc/motd and /opt/app, as one layer. */
export function baseLayer(t: Teardown): Buffer {
  const root = busyboxRoot(t);
  writeFileSync(join(root, 'etc/motd'), 'original\n');
  mkdirSync(join(root, 'opt/app/sub'), { recursive: true });
  for (const f of ['a', 'b', 'sub/c']) writeFileSync(join(root, 'opt/app', f), f);
  mkdirSync(join(root, 'var/cache/apt'), { recursive: true });
  writeFileSync(join(root, 'var/cache/apt/pkg'), 'p');
  return tarDir(root);
}

/** Layer 2: an opaque /opt/app, a whited-out /var/cache, a device, a FIFO, links; layer 3: a tree made again, a whiteout of layer 2's. */
export const upperLayers = (): Buffer[] => [
  tarBytes([
    { path: 'opt/', mtime: T0 },
    { path: 'opt/app/', mode: 0o750, uid: 1000, gid: 1000, mtime: T0 },
    { path: 'opt/app/.wh..wh..opq' },
    { path: 'opt/app/new', data: 'new\n', mtime: T0 },
    { path: 'opt/devs/', mtime: T0 },
    { path: 'opt/devs/null', type: 'CharacterDevice', devmaj: 1, devmin: 3, mode: 0o666, mtime: T0 },
    { path: 'opt/devs/fifo', type: 'FIFO', mode: 0o620, mtime: T0 },
    { path: 'var/', mtime: T0 },
    { path: 'var/.wh.cache' },
    { path: 'etc/', mtime: T0 },
    { path: 'etc/os-release', data: 'ID=test\n', mtime: T0 },
    { path: 'etc/os-release-link', type: 'Link', linkpath: 'etc/os-release', mtime: T0 },
    { path: 'etc/localtime', type: 'SymbolicLink', linkpath: '/usr/share/zoneinfo/UTC', mtime: T0 },
  ]),
  remadeLayer(T0),
];

/** An OCI layout of these images in a fresh directory of `work`, imported into the sandbox's store; returns the layout. */
export async function importImages(s: Sandbox, work: string, images: TestImage[]): Promise<string> {
  const layout = mkdtempSync(join(work, 'layout-'));
  writeOciLayout(layout, images);
  const r = await s.cli(['image', 'import', layout]);
  if (r.status !== 0) throw new Error(`import: ${r.stderr}`);
  return layout;
}

/** Every entry under $1 (relative, sorted): mode, owner, mtime, device numbers, link target; then file digests. */
export const TREE_SCRIPT =
  'cd "$1" && busybox find . -xdev -exec busybox stat -c "%n|%f|%u:%g|%Y|%t:%T|%N" {} + | busybox sort && busybox find . -xdev -type f -exec busybox sha256sum {} + | busybox sort -k2';

/** What the runner adds to an image's root (the init layer, its mount points): left out of comparisons. */
const RUNNER_PATHS = /^(?:\S+ +)?\.(?:\/(?:etc|proc|sys|dev)(?:\/(?:hosts|hostname|resolv\.conf|mtab))?)?(?:\||$)/;

/** TREE_SCRIPT's lines without what the runner adds. */
export const imageLines = (out: string): string[] => out.split('\n').filter((l) => l !== '' && !RUNNER_PATHS.test(l));

/** TREE_SCRIPT run on the host by the same busybox. */
export function hostTree(dir: string): string {
  const r = spawnSync('/bin/busybox', ['sh', '-c', TREE_SCRIPT, 'sh', dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`listing ${dir}: ${r.stderr}`);
  return r.stdout;
}

/** Every byte, time and attribute of the layer store, to show a container never changes it. */
export const storeFingerprint = (dataRoot: string): string =>
  JSON.stringify(listing(join(dataRoot, 'layers'), { times: true })) + xattrs(join(dataRoot, 'layers'));
