// Hostile or odd blobs in an image layout or archive (issue 10): only regular files that stay inside it are read,
// never past the size their descriptor declares; a FIFO, a device or a link to a host file is refused at once,
// naming the blob and what is wrong. Every import runs under a memory cap and a deadline: a regression fails here
// rather than eat the machine (/dev/zero) or hang CI (a FIFO).
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratch, sh, storeFiles, tarBytes, tarDir, writeDockerSave, writeOciLayout } from '../helpers/images.js';
import { cappedCli } from '../helpers/import-guards.js';

if (process.getuid?.() !== 0) t.plan(0, 'importing the images that are not refused writes owners: needs root');

const HEX = '[0-9a-f]{64}';

interface Layout {
  dir: string;
  /** blob paths, relative to the layout */
  index: string;
  manifest: string;
  config: string;
  layer: string;
}

/** An OCI layout of one small image at work/NAME (ref v1); which file is which. */
function layout(work: string, name: string): Layout {
  const dir = join(work, name);
  const [[layerPath]] = writeOciLayout(dir, [{ ref: 'v1', layers: [tarBytes([{ path: 'etc/' }, { path: 'etc/motd', data: 'hello\n' }])] }]);
  const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = blob(index.manifests[0]!.digest);
  const m = JSON.parse(readFileSync(join(dir, manifest), 'utf8')) as { config: { digest: string } };
  return { dir, index: 'index.json', manifest, config: blob(m.config.digest), layer: layerPath!.slice(dir.length + 1) };
}

/** Replace a file of the layout by something else. */
function replace(
  dir: string,
  rel: string,
  by: { symlink: string } | { fifo: true } | { device: [number, number] } | { sparse: number },
): void {
  rmSync(join(dir, rel));
  if ('symlink' in by) symlinkSync(by.symlink, join(dir, rel));
  else if ('fifo' in by) sh('mkfifo', [join(dir, rel)]);
  else if ('device' in by) sh('mknod', [join(dir, rel), 'c', String(by.device[0]), String(by.device[1])]);
  else {
    writeFileSync(join(dir, rel), '');
    truncateSync(join(dir, rel), by.sparse);
  }
}

/** The import fails within its deadline and memory, with one line matching `message`, leaving nothing. */
function refused(t: Test, data: string, path: string, message: RegExp, what: string): void {
  const r = cappedCli(data, ['image', 'import', path]);
  t.notOk(r.hung, `${what}: ends by itself (not at the deadline)`);
  t.equal(r.status, 1, `${what}: exit 1${r.signal ? ` (it died of ${r.signal})` : ''}`);
  t.match(r.stderr, new RegExp(`^tsproc: ${message.source}\\n$`), `${what}: one line naming the blob and what is wrong`);
  t.same(storeFiles(data), [], `${what}: nothing left in the data root`);
}

t.test('a config blob that is a symbolic link to /dev/zero is refused at once (it was read without bound)', async (t) => {
  const work = scratch(t, 'hostile');
  const l = layout(work, 'zero');
  replace(l.dir, l.config, { symlink: '/dev/zero' });
  refused(
    t,
    join(work, 'data'),
    l.dir,
    new RegExp(`zero:v1: config sha256:${HEX}: blobs/sha256/${HEX}: a symbolic link to /dev/zero, outside the layout: refused`),
    'config -> /dev/zero',
  );
});

t.test('a blob that is a FIFO is refused at once (the import blocked until SIGKILL)', async (t) => {
  const work = scratch(t, 'hostile');
  const l = layout(work, 'fifo');
  replace(l.dir, l.config, { fifo: true });
  refused(
    t,
    join(work, 'data'),
    l.dir,
    new RegExp(`fifo:v1: config sha256:${HEX}: blobs/sha256/${HEX}: not a regular file \\(a FIFO\\)`),
    'config: a FIFO',
  );
  const m = layout(work, 'fifolayer');
  replace(m.dir, m.layer, { fifo: true });
  refused(
    t,
    join(work, 'data'),
    m.dir,
    new RegExp(`fifolayer:v1: layer 1 \\(sha256:${HEX}\\): blobs/sha256/${HEX}: not a regular file \\(a FIFO\\)`),
    'layer: a FIFO',
  );
  const i = layout(work, 'fifoindex');
  replace(i.dir, 'index.json', { fifo: true });
  refused(t, join(work, 'data'), i.dir, /\S+fifoindex: index\.json: not a regular file \(a FIFO\)/, 'index.json: a FIFO');
});

t.test('a blob that is a device node is refused', async (t) => {
  const work = scratch(t, 'hostile');
  const l = layout(work, 'dev');
  replace(l.dir, l.manifest, { device: [1, 5] }); // what /dev/zero is
  refused(
    t,
    join(work, 'data'),
    l.dir,
    new RegExp(`dev:v1: manifest sha256:${HEX}: blobs/sha256/${HEX}: not a regular file \\(a character device\\)`),
    'manifest: a character device',
  );
});

t.test('a blob linked to a host file (/etc/shadow, absolute or climbing out) is never read', async (t) => {
  const work = scratch(t, 'hostile');
  const abs = layout(work, 'shadow');
  replace(abs.dir, abs.config, { symlink: '/etc/shadow' });
  const r = cappedCli(join(work, 'data'), ['image', 'import', abs.dir]);
  t.match(
    r.stderr,
    new RegExp(
      `^tsproc: shadow:v1: config sha256:${HEX}: blobs/sha256/${HEX}: a symbolic link to /etc/shadow, outside the layout: refused\\n$`,
    ),
  );
  t.notMatch(r.stderr, /bytes|hashes to/, 'nothing about its content: not its size, not its digest');
  t.equal(r.status, 1);
  const rel = layout(work, 'climb');
  replace(rel.dir, rel.layer, { symlink: '../../../../../../../../../../etc/shadow' });
  refused(
    t,
    join(work, 'data'),
    rel.dir,
    new RegExp(
      `climb:v1: layer 1 \\(sha256:${HEX}\\): blobs/sha256/${HEX}: a symbolic link to \\.\\./(\\.\\./)*etc/shadow, outside the layout: refused`,
    ),
    'layer -> ../../etc/shadow',
  );
  const dir = layout(work, 'dirlink');
  rmSync(join(dir.dir, 'blobs/sha256'), { recursive: true });
  symlinkSync('/etc', join(dir.dir, 'blobs/sha256'));
  refused(
    t,
    join(work, 'data'),
    dir.dir,
    new RegExp(
      `dirlink:v1: manifest sha256:${HEX}: blobs/sha256/${HEX}: blobs/sha256 is a symbolic link to /etc, outside the layout: refused`,
    ),
    'blobs/sha256 -> /etc',
  );
});

t.test('a blob larger than its descriptor says is refused without being read', async (t) => {
  const work = scratch(t, 'hostile');
  const l = layout(work, 'big');
  replace(l.dir, l.config, { sparse: 3 * 2 ** 30 }); // a 3 GiB hole: reading it whole would take the memory cap
  refused(
    t,
    join(work, 'data'),
    l.dir,
    new RegExp(
      `big:v1: config sha256:${HEX}: size mismatch: the descriptor says \\d+ bytes, the content has 3221225472 \\(corrupted or truncated\\)`,
    ),
    'config: 3 GiB',
  );
  const m = layout(work, 'biglayer');
  replace(m.dir, m.layer, { sparse: 64 * 2 ** 30 });
  refused(
    t,
    join(work, 'data'),
    m.dir,
    new RegExp(
      `biglayer:v1: layer 1 \\(sha256:${HEX}\\): blob: size mismatch: the descriptor says \\d+ bytes, the content has 68719476736 \\(corrupted or truncated\\)`,
    ),
    'layer: 64 GiB',
  );
  // a descriptor that declares the huge size: a JSON document is never read past 16 MiB
  const j = layout(work, 'bigjson');
  const index = JSON.parse(readFileSync(join(j.dir, 'index.json'), 'utf8'));
  index.manifests[0].size = 3 * 2 ** 30;
  writeFileSync(join(j.dir, 'index.json'), JSON.stringify(index));
  replace(j.dir, j.manifest, { sparse: 3 * 2 ** 30 });
  refused(
    t,
    join(work, 'data'),
    j.dir,
    new RegExp(
      `bigjson:v1: manifest sha256:${HEX}: blobs/sha256/${HEX}: 3221225472 bytes: more than a JSON document may have \\(16 MiB\\): refused`,
    ),
    'manifest declared 3 GiB',
  );
});

t.test('a symbolic link that stays inside the layout is followed (as docker save links a layer two images share)', async (t) => {
  const work = scratch(t, 'hostile');
  const l = layout(work, 'inside');
  mkdirSync(join(l.dir, 'shared'));
  renameSync(join(l.dir, l.layer), join(l.dir, 'shared/layer.tar'));
  symlinkSync('../../shared/layer.tar', join(l.dir, l.layer));
  const r = cappedCli(join(work, 'data'), ['image', 'import', l.dir]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'Loaded image: inside:v1\n');
});

t.test('the same refusals inside archives: an OCI layout tar, a docker save archive', async (t) => {
  const work = scratch(t, 'hostile');
  const data = join(work, 'data');
  const l = layout(work, 'ocitar');
  replace(l.dir, l.config, { symlink: '/dev/zero' });
  writeFileSync(join(work, 'ocitar.tar'), tarDir(l.dir));
  // node-tar (strict) refuses a link leading out of an archive, or a FIFO, as it unpacks it: the same words
  refused(
    t,
    data,
    join(work, 'ocitar.tar'),
    new RegExp(`\\S+/ocitar\\.tar: unpacking the archive: blobs/sha256/${HEX}: a symbolic link to /dev/zero, outside the archive: refused`),
    'OCI tar: config -> /dev/zero',
  );
  replace(l.dir, l.config, { fifo: true });
  writeFileSync(join(work, 'ocitar.tar'), tarDir(l.dir));
  refused(
    t,
    data,
    join(work, 'ocitar.tar'),
    new RegExp(`\\S+/ocitar\\.tar: unpacking the archive: blobs/sha256/${HEX}: unsupported entry type: FIFO`),
    'OCI tar: config a FIFO',
  );

  // docker save: the second image's layer.tar a link to the first's, as docker writes a shared layer: fine
  const layer = tarBytes([{ path: 'etc/' }, { path: 'etc/motd', data: 'hi\n' }]);
  const saved = join(work, 'saved.tar');
  writeDockerSave(
    saved,
    [
      { tags: ['one:1'], layers: [layer] },
      { tags: ['two:1'], layers: [layer], config: { Cmd: ['two'] } },
    ],
    work,
  );
  const dir = join(work, 'saved');
  mkdirSync(dir);
  sh('tar', ['-xf', saved, '-C', dir]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
  const [first, second] = [manifest[0]!.Layers[0]!, manifest[1]!.Layers[0]!];
  rmSync(join(dir, second));
  symlinkSync(`../${first}`, join(dir, second));
  writeFileSync(join(work, 'shared.tar'), tarDir(dir));
  const ok = cappedCli(join(work, 'data-ok'), ['image', 'import', join(work, 'shared.tar')]);
  t.equal(ok.status, 0, ok.stderr);
  t.equal(ok.stdout, 'Loaded image: one:1\nLoaded image: two:1\n');

  // a layer file of the archive's only image (read, then: the store does not have its layer)
  const lone = join(work, 'lone');
  writeDockerSave(join(work, 'lone.tar'), [{ tags: ['lone:1'], layers: [tarBytes([{ path: 'x', data: 'x' }])] }], work);
  mkdirSync(lone);
  sh('tar', ['-xf', join(work, 'lone.tar'), '-C', lone]);
  const [entry] = JSON.parse(readFileSync(join(lone, 'manifest.json'), 'utf8')) as Array<{ Config: string; Layers: string[] }>;
  const layerFile = entry!.Layers[0]!;
  rmSync(join(lone, layerFile));
  symlinkSync('/etc/shadow', join(lone, layerFile));
  writeFileSync(join(work, 'shadow.tar'), tarDir(lone));
  const shadow = new RegExp(
    `lone:1: layer 1 \\(${layerFile}\\): ${layerFile}: a symbolic link to /etc/shadow, outside the archive: refused`,
  );
  refused(
    t,
    data,
    join(work, 'shadow.tar'),
    new RegExp(`\\S+/shadow\\.tar: unpacking the archive: ${layerFile}: a symbolic link to /etc/shadow, outside the archive: refused`),
    'docker save: layer.tar -> /etc/shadow',
  );
  refused(t, data, lone, shadow, 'docker save directory: the same');
  rmSync(join(lone, layerFile));
  sh('mkfifo', [join(lone, layerFile)]);
  refused(
    t,
    data,
    lone,
    new RegExp(`lone:1: layer 1 \\(${layerFile}\\): ${layerFile}: not a regular file \\(a FIFO\\)`),
    'docker save directory: a FIFO',
  );
  rmSync(join(lone, entry!.Config));
  symlinkSync('/dev/zero', join(lone, entry!.Config));
  refused(
    t,
    data,
    lone,
    new RegExp(`lone:1: config: ${HEX}\\.json: a symbolic link to /dev/zero, outside the archive: refused`),
    'docker save directory: config -> /dev/zero',
  );
});
