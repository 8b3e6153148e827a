// `tsproc image import`, `images`, `rmi` for real: every source format, names, shared layers, verified digests,
// bad input refused with nothing left behind, interruption (SIGINT, SIGTERM, SIGKILL), and the progress bar on a terminal.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  busyboxTree,
  listing,
  scratch,
  sh,
  sha,
  storeFiles,
  tarBytes,
  tarDir,
  tsproc,
  writeDockerSave,
  writeOciLayout,
} from '../helpers/images.js';
import { ImageStore } from '../../runner/image/index.js';
import { BIN } from '../helpers/daemon.js';
import { importGate } from '../helpers/import-guards.js';
import { until } from '../helpers/runner.js';

if (process.getuid?.() !== 0) t.plan(0, 'image import writes owners and device nodes: needs root');

interface Listed {
  id: string;
  names: string[];
  size: number;
  layers: string[];
}
const images = (data: string) => JSON.parse(tsproc(data, ['images', '--json']).stdout) as Listed[];

/** Two layers over busybox: the second deletes etc/group and adds etc/motd. */
function twoLayers(work: string): Buffer[] {
  const base = tarDir(busyboxTree(join(work, 'base')));
  const top = tarBytes([{ path: 'etc/', mode: 0o755 }, { path: 'etc/.wh.group' }, { path: 'etc/motd', data: 'hello\n' }]);
  return [base, top];
}

t.test('an OCI layout directory made by umoci: names from the ref annotation, layers unpacked once', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const layout = join(work, 'bb');
  sh('umoci', ['init', '--layout', layout]);
  sh('umoci', ['new', '--image', `${layout}:1.0`]);
  sh('umoci', ['unpack', '--image', `${layout}:1.0`, join(work, 'bundle')]);
  busyboxTree(join(work, 'bundle/rootfs'));
  sh('umoci', ['repack', '--image', `${layout}:1.0`, join(work, 'bundle')]);
  const r = tsproc(data, ['image', 'import', layout]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'Loaded image: bb:1.0\n');
  const [img] = images(data);
  t.same(img!.names, ['bb:1.0']);
  t.equal(img!.layers.length, 1);
  // the image id is the digest of its config, as the layout's manifest names it (umoci wrote both)
  const blob = (digest: string) => readFileSync(join(layout, 'blobs/sha256', digest.slice(7)), 'utf8');
  const manifest = JSON.parse(
    blob((JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!.digest),
  ) as { config: { digest: string } };
  const short = manifest.config.digest.slice(7, 19);
  t.equal(img!.id, manifest.config.digest, 'its id: the digest of its config');
  t.match(
    tsproc(data, ['images']).stdout,
    new RegExp(`^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\nbb +1\\.0 +${short} +.* ago +[0-9.]+MB\n$`),
  );
  t.equal(tsproc(data, ['images', '-q']).stdout, `${short}\n`, 'images -q: the short id alone');
  // the same layout as a tar: the same image, nothing unpacked again
  const tarball = join(work, 'bb.tar');
  writeFileSync(tarball, tarDir(layout));
  const before = readdirSync(join(data, 'layers/sha256'));
  const again = tsproc(data, ['image', 'import', tarball, '--name', 'other:v2']);
  t.equal(again.status, 0, again.stderr);
  t.same(readdirSync(join(data, 'layers/sha256')), before, 'no new layer');
  t.same(
    images(data).map((i) => i.names),
    [['bb:1.0', 'other:v2']],
    'one image, two names',
  );
  t.equal(
    tsproc(data, ['images', '-q']).stdout,
    `${short}\n`,
    'images -q: one line an image, whatever its names (docker prints one a name)',
  );
});

t.test('docker save archive: every RepoTag; two images sharing a layer share it in the store', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const [base, top] = twoLayers(work);
  const file = join(work, 'saved.tar');
  writeDockerSave(
    file,
    [
      { tags: ['busybox:latest', 'registry.local:5000/bb:1'], layers: [base!, top!] },
      { tags: ['base:only'], layers: [base!] },
    ],
    work,
  );
  const r = tsproc(data, ['image', 'import', file]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'Loaded image: busybox:latest\nLoaded image: registry.local:5000/bb:1\nLoaded image: base:only\n');
  t.same(
    images(data)
      .map((i) => i.names)
      .sort(),
    [['base:only'], ['busybox:latest', 'registry.local:5000/bb:1']],
  );
  t.equal(readdirSync(join(data, 'layers/sha256')).length, 2, 'three layer references, two layers');
  const tree = listing(
    join(
      data,
      'layers/sha256',
      readdirSync(join(data, 'layers/sha256')).find(
        (h) => `sha256:${h}` !== images(data).find((i) => i.names.includes('base:only'))!.layers[0],
      )!,
      'diff',
    ),
  );
  t.match(tree['etc/group'], /^chr 0 0:0 0$/, 'the whiteout is a 0/0 character device');
  t.equal(tree['etc/motd']?.split(' ')[0], 'file');
});

t.test('a root filesystem, as a directory and as a gzipped tar: one-layer images, the same layer', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const root = busyboxTree(join(work, 'root'));
  t.equal(tsproc(data, ['image', 'import', root, '--name', 'fromdir']).status, 0);
  const tgz = join(work, 'root.tar.gz');
  writeFileSync(tgz, gzipSync(tarDir(root)));
  const r = tsproc(data, ['image', 'import', tgz]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^Loaded image ID: sha256:[0-9a-f]{64}\n$/, 'no name: listed by id');
  const all = images(data);
  t.equal(all.length, 2);
  t.same(
    all.map((i) => i.layers.length),
    [1, 1],
  );
  t.equal(all[0]!.layers[0], all[1]!.layers[0], 'GNU tar of the directory and the same tar give one layer');
  const diff = join(data, 'layers/sha256', all[0]!.layers[0]!.slice(7), 'diff');
  t.same(listing(diff, { exclude: [] }), listing(root), 'the layer is the tree: owners, modes, links, sticky tmp');
  // by id prefix
  const id = all.find((i) => i.names.length === 0)!.id;
  const rm = tsproc(data, ['rmi', id.slice(7, 19)]);
  t.equal(rm.status, 0, rm.stderr);
  t.equal(rm.stdout, `Deleted: ${id}\n`, 'the layer stays: fromdir uses it');
});

t.test('bad input: a clear message naming what was wrong, exit 1, nothing left behind', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const [base, top] = twoLayers(work);
  const good = join(work, 'good');
  const [blobs] = writeOciLayout(good, [{ ref: 'v1', layers: [base!, top!], gzip: true }]);
  const text = join(work, 'notes.txt');
  writeFileSync(text, 'not an image\n');
  const empty = join(work, 'empty');
  mkdirSync(empty);
  const corrupt = join(work, 'corrupt');
  writeOciLayout(corrupt, [{ ref: 'v1', layers: [base!, top!], gzip: true }]);
  const blob = join(corrupt, 'blobs/sha256', blobs![0]!.split('/').pop()!);
  const bytes = readFileSync(blob);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(blob, bytes);
  const missingBlob = join(work, 'missing');
  writeOciLayout(missingBlob, [{ ref: 'v1', layers: [base!, top!] }]);
  sh('rm', [
    join(
      missingBlob,
      'blobs/sha256',
      readdirSync(join(missingBlob, 'blobs/sha256')).find(
        (f) => readFileSync(join(missingBlob, 'blobs/sha256', f)).length === top!.length,
      )!,
    ),
  ]);
  const cases: Array<[string[], RegExp]> = [
    [['image', 'import', join(work, 'nope')], /image import: stat `.*nope` failed: ENOENT \(no such file or directory\)/],
    [['image', 'import', text], /\S+notes\.txt: not an image: not a tar archive .*/],
    [['image', 'import', empty], /\S+empty: an empty directory is not an image .*/],
    [
      ['image', 'import', corrupt],
      /corrupt:v1: layer 1 \(sha256:[0-9a-f]{64}\): blob: digest mismatch: expected sha256:[0-9a-f]{64}, the content hashes to sha256:[0-9a-f]{64} \(corrupted or altered\)/,
    ],
    [['image', 'import', missingBlob], /missing:v1: layer 2 \(sha256:[0-9a-f]{64}\): the blob is not in the layout/],
    [['rmi', 'nosuch'], /no such image: nosuch/],
  ];
  for (const [args, message] of cases) {
    const r = tsproc(data, args);
    t.equal(r.status, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, new RegExp(`^tsproc: ${message.source}\\n$`), args.join(' '));
    t.same(storeFiles(data), [], `${args.join(' ')}: nothing left in the data root`);
  }
  const usage = tsproc(data, ['image', 'import', good, '--name', 'Bad Name']);
  t.equal(usage.status, 1, 'a bad --name is refused');
  t.match(usage.stderr, /--name "Bad Name": a name is lowercase/);
  t.equal(tsproc(data, ['image', 'import', good]).status, 0, 'the good layout imports');
});

t.test('a corrupted docker archive layer (no blob digest there) is caught by its diff_id', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const [base, top] = twoLayers(work);
  const bad = Buffer.from(top!);
  bad[bad.indexOf('hello')] = 0x48; // "Hello": a valid tar still, different content
  const dir = join(work, 'save');
  writeDockerSave(join(work, 'good.tar'), [{ tags: ['x:1'], layers: [base!, top!] }], work);
  mkdirSync(dir);
  sh('tar', ['-xf', join(work, 'good.tar'), '-C', dir]);
  const layerTar = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))[0].Layers[1] as string;
  writeFileSync(join(dir, layerTar), bad);
  const r = tsproc(data, ['image', 'import', dir]);
  t.equal(r.status, 1);
  t.match(r.stderr, /x:1: layer 2 \(.*layer\.tar\): uncompressed content \(diff_id\): digest mismatch/);
  t.same(storeFiles(data), []);
});

t.test(
  'interrupted import (SIGINT or SIGTERM while a layer is decompressed): exit 130 at once, nothing left; a SIGKILLed one is swept',
  async (t) => {
    const work = scratch(t, 'import');
    const data = join(work, 'data');
    const [base, top] = twoLayers(work);
    const layout = join(work, 'slow');
    writeOciLayout(layout, [{ ref: 'v1', layers: [base!, top!], zstd: true }]);
    const gate = importGate(work);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      rmSync(gate.pidFile, { force: true });
      const child = spawn(process.execPath, [BIN, '--data-root', data, 'image', 'import', layout], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: gate.env,
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig!)));
      // the import waits before it decompresses its first layer: it is blocked in the middle of that layer
      await until(
        'the import waits at the gate',
        () => existsSync(gate.pidFile) && readFileSync(gate.pidFile, 'utf8').trim() !== '',
        30_000,
      );
      t.ok(
        readdirSync(join(data, 'tmp')).some((d) => existsSync(join(data, 'tmp', d, 'layers/0/diff'))),
        `${signal}: the import is unpacking its first layer`,
      );
      child.kill(signal);
      const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const how = await exited;
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') {
        t.equal(how, 130, `${signal}: the import ends at once, exit 130 (not at the deadline)`);
        t.equal(stderr, 'tsproc: import interrupted: nothing was imported\n');
        t.same(storeFiles(data), [], `${signal}: nothing left, the scratch directory included`);
      } else {
        t.equal(how, 'SIGKILL');
        t.equal(readdirSync(join(data, 'tmp')).length, 1, 'SIGKILL leaves its scratch directory');
        t.same(images(data), [], 'but no image');
        t.same(readdirSync(join(data, 'layers/sha256')), [], 'and no layer');
      }
    }
    const r = tsproc(data, ['image', 'import', layout]);
    t.equal(r.status, 0, r.stderr);
    t.same(readdirSync(join(data, 'tmp')), [], 'the next import swept what the killed one left');
  },
);

t.test('a progress bar on a terminal once the import takes a moment, none when piped', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const [base] = twoLayers(work);
  const layout = join(work, 'slow');
  writeOciLayout(layout, [{ ref: 'v1', layers: [base!], zstd: true }]);
  const gate = importGate(work);
  // script(1) gives the import a terminal; it waits at the gate until the bar is drawn
  const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} --data-root ${data} image import ${layout}`, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: gate.env,
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until('the bar is drawn', () => /importing \|[#-]+\| *\d+%/.test(out), 30_000);
  await gate.open();
  t.equal(await exited, 0);
  t.match(out, /importing \|[#-]+\| +\d+% [0-9.]+ MB \/ [0-9.]+ MB/, 'the bar, with bytes');
  t.match(out, /Loaded image: slow:v1/);
  const piped = join(work, 'data2');
  writeOciLayout(join(work, 'quick'), [{ ref: 'v1', layers: [base!] }]);
  const r = tsproc(piped, ['image', 'import', join(work, 'quick')]);
  t.equal(r.stderr, '', 'no bar when stderr is not a terminal');
});

t.test("docker 25's archive (an OCI layout with manifest.json): blob paths are checked against their names", async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const [base, top] = twoLayers(work);
  const dir = join(work, 'd25');
  const [paths] = writeOciLayout(dir, [{ ref: 'latest', layers: [base!, top!] }]);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify([
      {
        Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
        RepoTags: ['busybox:25'],
        Layers: paths!.map((p) => `blobs/sha256/${p.split('/').pop()}`),
      },
    ]),
  );
  const tarball = join(work, 'd25.tar');
  writeFileSync(tarball, tarDir(dir));
  const r = tsproc(data, ['image', 'import', tarball]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'Loaded image: busybox:25\n', 'RepoTags win over the bare OCI tag');
  // the same archive with a layer changed but still a valid tar: the blob's name gives it away
  writeFileSync(paths![1]!, tarBytes([{ path: 'etc/' }, { path: 'etc/motd', data: 'tampered\n' }]));
  const bad = tsproc(join(work, 'data2'), ['image', 'import', dir]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /^tsproc: busybox:25: layer 2 \(blobs\/sha256\/[0-9a-f]{64}\): blob: digest mismatch/);
  t.same(storeFiles(join(work, 'data2')), []);
});

t.test('an OCI image index: the manifest for this platform is the one imported', async (t) => {
  const work = scratch(t, 'import');
  const data = join(work, 'data');
  const [base] = twoLayers(work);
  const dir = join(work, 'multi');
  // two single-platform images, then one index over both, named by the layout's only ref
  writeOciLayout(dir, [
    { layers: [base!], config: { Cmd: ['amd64'] } },
    { layers: [tarBytes([{ path: 'arm', data: 'arm' }])], config: { Cmd: ['arm64'] } },
  ]);
  const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const [amd, arm] = top.manifests;
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
        { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }),
  );
  writeFileSync(join(dir, 'blobs/sha256', sha(list).slice(7)), list);
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          digest: sha(list),
          size: list.length,
          annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/multi:1' },
        },
      ],
    }),
  );
  const r = tsproc(data, ['image', 'import', dir]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'Loaded image: docker.io/library/multi:1\n', 'a full name in the ref annotation is used as it is');
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  t.same(new ImageStore(data).resolve('docker.io/library/multi:1').config.run.cmd, [arch], `the ${arch} manifest`);
});
