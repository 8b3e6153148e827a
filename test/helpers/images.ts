// Builds test images from Debian's busybox-static: trees, layer tars (crafted entry by entry for whiteouts and
// attacks), OCI layouts and docker save archives; lists trees for comparison; runs the CLI; always cleans up.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import { BIN } from './daemon.js';
import { removeDir } from './import-guards.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Mounts under a path, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** A fresh /tmp/tsproc-test-<label>-XXXX directory, unmounted and removed when the test ends. */
export function scratch(t: Teardown, label: string): string {
  const dir = mkdtempSync(`/tmp/tsproc-test-${label}-`);
  t.teardown(() => {
    for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
    removeDir(dir);
  });
  return dir;
}

export function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r;
}

export const APPLETS = ['sh', 'ls', 'cat', 'echo', 'id', 'test', 'rm', 'mkdir', 'touch'];

/** A small root: bin/busybox and applet links, etc/passwd and group, a sticky tmp, a private root home. */
export function busyboxTree(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  mkdirSync(join(dir, 'tmp'));
  chmodSync(join(dir, 'tmp'), 0o1777);
  mkdirSync(join(dir, 'root'), { mode: 0o700 });
  return dir;
}

/** A tar of a directory as GNU tar writes it (numeric owners, sorted). */
export function tarDir(dir: string): Buffer {
  return spawnSync('tar', ['--create', '--file=-', '--numeric-owner', '--sort=name', '-C', dir, '.'], { maxBuffer: 1 << 28 }).stdout;
}

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  mode?: number;
  uid?: number;
  gid?: number;
  data?: string | Buffer;
  linkpath?: string;
  mtime?: Date;
  devmaj?: number;
  devmin?: number;
}

/** A tar made entry by entry, paths exactly as given (for whiteouts, opaque markers and attacks). */
export function tarBytes(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? (e.path.endsWith('/') ? 'Directory' : 'File');
    const data = Buffer.from(e.data ?? '');
    const fields = {
      path: e.path,
      type,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: type === 'File' ? data.length : 0,
      mtime: e.mtime ?? new Date('2024-01-02T03:04:05Z'),
      linkpath: e.linkpath,
      devmaj: e.devmaj ?? 0,
      devmin: e.devmin ?? 0,
      uname: '',
      gname: '',
    };
    const header = Buffer.alloc(512);
    // a long path goes in a pax header only: node-tar's search for a ustar prefix split is slow on deep paths
    const long = Buffer.byteLength(e.path) > 99;
    if (new Header({ ...fields, path: long ? 'pax-path' : e.path }).encode(header, 0) || long)
      blocks.push(new Pax({ path: e.path, linkpath: e.linkpath }, false).encode());
    blocks.push(header);
    if (type === 'File' && data.length > 0) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A layer that makes a whited-out /var/cache again and whites out a file of the layer below's opaque /opt/app. */
export function remadeLayer(mtime: Date): Buffer {
  return tarBytes([
    { path: 'var/', mtime },
    { path: 'var/cache/', mode: 0o700, mtime },
    { path: 'var/cache/fresh', data: 'f', mtime },
    { path: 'opt/', mtime },
    { path: 'opt/app/', mode: 0o750, uid: 1000, gid: 1000, mtime },
    { path: 'opt/app/.wh.new' },
    { path: 'opt/app/newer', data: 'newer', mtime },
  ]);
}

export interface TestImage {
  /** OCI ref annotation (a tag or a full name); docker RepoTags */
  ref?: string;
  tags?: string[];
  layers: Buffer[];
  gzip?: boolean;
  /** layers compressed with the zstd tool */
  zstd?: boolean;
  config?: Record<string, unknown>;
}

function configOf(img: TestImage): Buffer {
  return Buffer.from(
    JSON.stringify({
      created: '2024-01-02T03:04:05Z',
      architecture: 'amd64',
      os: 'linux',
      config: img.config ?? { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: img.layers.map((l) => sha(l)) },
    }),
  );
}

const zstdSync = (b: Buffer): Buffer => spawnSync('zstd', ['-cq'], { input: b, maxBuffer: 1 << 28 }).stdout;

/** An OCI image layout at dir (as umoci or skopeo write it); returns the blob paths of each image's layers. */
export function writeOciLayout(dir: string, images: TestImage[]): string[][] {
  const blobs = join(dir, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(join(blobs, d.slice(7)), b);
    return { digest: d, size: b.length };
  };
  const layerPaths: string[][] = [];
  const manifests = images.map((img) => {
    const layers = img.layers.map((l) => ({
      mediaType: `application/vnd.oci.image.layer.v1.tar${img.gzip ? '+gzip' : img.zstd ? '+zstd' : ''}`,
      ...put(img.gzip ? gzipSync(l) : img.zstd ? zstdSync(l) : l),
    }));
    layerPaths.push(layers.map((l) => join(blobs, l.digest.slice(7))));
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(configOf(img)) };
    const manifest = put(
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      ...(img.ref ? { annotations: { 'org.opencontainers.image.ref.name': img.ref } } : {}),
    };
  });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return layerPaths;
}

/** A `docker save` archive (the classic format: <id>/layer.tar, <config hex>.json, manifest.json) at file. */
export function writeDockerSave(file: string, images: TestImage[], work: string): void {
  const dir = mkdtempSync(join(work, 'docker-save-'));
  const manifest = images.map((img) => {
    const config = configOf(img);
    writeFileSync(join(dir, `${sha(config).slice(7)}.json`), config);
    const layers = img.layers.map((l, i) => {
      const id = sha(`${sha(config)}-${i}`).slice(7);
      mkdirSync(join(dir, id));
      writeFileSync(join(dir, id, 'layer.tar'), l);
      return `${id}/layer.tar`;
    });
    return { Config: `${sha(config).slice(7)}.json`, RepoTags: img.tags ?? null, Layers: layers };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(file, tarDir(dir));
  rmSync(dir, { recursive: true });
}

/** path -> "type mode uid:gid what" for every entry under root (what: content digest, link target, device). */
export function listing(root: string, opts: { exclude?: string[]; times?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const type = st.isDirectory()
      ? 'dir'
      : st.isFile()
        ? 'file'
        : st.isSymbolicLink()
          ? 'link'
          : st.isCharacterDevice()
            ? 'chr'
            : st.isBlockDevice()
              ? 'blk'
              : st.isFIFO()
                ? 'fifo'
                : 'other';
    const what =
      type === 'file'
        ? sha(readFileSync(abs)).slice(7, 23)
        : type === 'link'
          ? readlinkSync(abs)
          : type === 'chr' || type === 'blk'
            ? String(st.rdev)
            : '';
    const time = opts.times && type !== 'dir' ? ` ${st.mtimeMs}` : '';
    out[rel || '.'] = `${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}${time}`;
    if (type === 'dir') for (const n of readdirSync(abs).sort()) if (!opts.exclude?.includes(join(rel, n))) walk(join(rel, n));
  };
  walk('');
  return out;
}

/** The extended attributes of every entry under root (getfattr), as text. */
export function xattrs(root: string): string {
  return spawnSync('getfattr', ['-R', '-P', '-d', '-m', '-', '--absolute-names', root], { encoding: 'utf8' }).stdout;
}

export function mountOverlay(target: string, lowerdirs: string[], upper?: { upperdir: string; workdir: string }): void {
  const data = [`lowerdir=${lowerdirs.join(':')}`, ...(upper ? [`upperdir=${upper.upperdir}`, `workdir=${upper.workdir}`] : [])].join(',');
  sh('mount', ['-t', 'overlay', 'overlay', '-o', data, target]);
}

/** The CLI with its own data root. */
export function tsproc(dataRoot: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, '--data-root', dataRoot, ...args], { encoding: 'utf8' });
}

/** What a data root holds, ignoring the (empty) directories an import makes. */
export function storeFiles(dataRoot: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dataRoot, rel), { withFileTypes: true })) {
      const p = join(rel, e.name);
      if (e.isDirectory() && !/^layers\/sha256\/[0-9a-f]{64}$/.test(p) && !/^images\/sha256\/[0-9a-f]{64}$/.test(p)) walk(p);
      else out.push(p);
    }
  };
  // no data root at all: nothing in it; any other error (an unreadable store) fails the test
  if (!existsSync(dataRoot)) return [];
  walk('');
  return out.sort();
}
