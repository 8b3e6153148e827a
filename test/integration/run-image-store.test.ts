// Containers and the image store for real: ps -a and inspect show the image; rmi refuses an image a container
// uses; gc removes exited containers with their layers and every layer no image uses, never what is in use;
// bad input to `run` is refused (exit 125) before anything is created.
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listing, scratch, sha, storeFiles, tarBytes } from '../helpers/images.js';
import { baseLayer, importImages } from '../helpers/run-images.js';
import { busyboxRoot, cannotRun, sandbox, until } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('rmi refuses a used image; gc frees the exited container and unused layers, and keeps what is used', async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  const base = baseLayer(t);
  const onlyB = tarBytes([{ path: 'b', data: 'b' }]);
  await importImages(s, work, [
    { ref: 'tsproc-test/a:1', layers: [base, tarBytes([{ path: 'a', data: 'a' }])] },
    { ref: 'tsproc-test/b:1', layers: [base, onlyB] },
  ]);
  const layerIds = () => readdirSync(join(s.dataRoot, 'layers/sha256')).sort();
  t.equal(layerIds().length, 3, 'base, a, b');
  const running = (
    await s.run(['-d', '--name', 'tsproc-test-a', 'tsproc-test/a:1', 'sh', '-c', 'echo mine > /a; touch /ready; exec sleep 600'])
  ).stdout.trim();
  await until('a has written', () => existsSync(join(s.dataRoot, 'containers', running, 'upper/ready')));
  const exited = await s.run(['--name', 'tsproc-test-b', 'tsproc-test/b:1', 'sh', '-c', 'head -c 100000 /dev/zero > /big']);
  t.equal(exited.status, 0, exited.stderr);

  const ps = (await s.cli(['ps', '-a'])).stdout;
  t.match(ps, /^CONTAINER ID\s+NAME\s+IMAGE\s+COMMAND/);
  t.match(ps, /tsproc-test-a\s+tsproc-test\/a:1\s+"sh -c echo mine.*Up /);
  t.match(ps, /tsproc-test-b\s+tsproc-test\/b:1\s+"sh -c head.*Exited \(0\)/, 'ps -a: the exited container and its image');
  const [inspected] = JSON.parse((await s.cli(['inspect', 'tsproc-test-b'])).stdout) as {
    Id: string;
    Image: string;
    ImageName: string;
    GraphDriver: { Name: string; Data: Record<string, string> };
  }[];
  const imageB = (JSON.parse((await s.cli(['images', '--json'])).stdout) as { id: string; names: string[] }[]).find((i) =>
    i.names.includes('tsproc-test/b:1'),
  )!.id;
  t.equal(inspected!.Image, imageB, 'inspect: the image id');
  t.equal(inspected!.ImageName, 'tsproc-test/b:1');
  // overlay's lower directories, top first: the container's init layer, then the image's layers, each
  // stored under its diff_id (the digest of its uncompressed tar: docs/images.md)
  const container = (d: string) => join(s.dataRoot, 'containers', inspected!.Id, d);
  const layer = (tar: Buffer) => join(s.dataRoot, 'layers/sha256', sha(tar).slice(7), 'diff');
  t.same(
    inspected!.GraphDriver,
    {
      Name: 'overlay',
      Data: {
        LowerDir: [container('init'), layer(onlyB), layer(base)].join(':'),
        UpperDir: container('upper'),
        WorkDir: container('work'),
        MergedDir: container('rootfs'),
      },
    },
    "inspect: the init layer on top of the image's two, the writable layer, the root",
  );

  for (const [image, container, state] of [
    ['tsproc-test/a:1', 'tsproc-test-a', 'running'],
    ['tsproc-test/b:1', 'tsproc-test-b', 'exited'],
  ]) {
    const rmi = await s.cli(['rmi', image!]);
    t.equal(rmi.status, 1, `rmi ${image}`);
    t.match(
      rmi.stderr,
      new RegExp(`^tsproc: image ${image} is used by container ${container} \\([0-9a-f]{12}, ${state}\\): remove it first, or use -f\\n$`),
    );
  }
  t.equal(layerIds().length, 3, 'refused: nothing removed');

  const keep =
    JSON.stringify(listing(join(s.dataRoot, 'layers'), { times: true })) +
    JSON.stringify(listing(join(s.dataRoot, 'containers', running), { times: true }));
  const gc = await s.cli(['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.match(
    gc.stdout,
    /^Deleted container: [0-9a-f]{12} \(tsproc-test-b\)\nTotal reclaimed space: 10\dkB\n$/,
    'the exited container (its 100 kB write with it)',
  );
  t.notMatch((await s.cli(['ps', '-a'])).stdout, /tsproc-test-b/);
  t.equal(
    JSON.stringify(listing(join(s.dataRoot, 'layers'), { times: true })) +
      JSON.stringify(listing(join(s.dataRoot, 'containers', running), { times: true })),
    keep,
    'every layer (b is still an image) and the running container untouched',
  );

  const rmiB = await s.cli(['rmi', 'tsproc-test/b:1']);
  t.match(
    rmiB.stdout,
    /^Untagged: tsproc-test\/b:1\nDeleted: sha256:[0-9a-f]{64}\nFreed 1 layer, 1B\n$/,
    'b, now unused, goes with its own layer',
  );
  const rmiA = await s.cli(['rmi', '-f', 'tsproc-test/a:1']);
  t.equal(rmiA.status, 0, rmiA.stderr);
  t.match(rmiA.stderr, /is kept until the containers using it are removed/);
  const gc2 = await s.cli(['gc']);
  t.equal(gc2.stdout, 'Total reclaimed space: 0B\n', 'a running container and what it uses are never touched');
  t.equal(layerIds().length, 2);
  t.equal((await s.run(['--rm', 'tsproc-test/a:1', 'true'])).status, 125, 'the hidden image cannot be run any more');
  t.equal((await s.cli(['exec', 'tsproc-test-a', 'cat', '/a'])).stdout, 'mine\n', 'the container runs on over its layers');

  t.equal((await s.cli(['stop', '-t', '0', 'tsproc-test-a'])).status, 0);
  const gc3 = await s.cli(['gc']);
  t.match(
    gc3.stdout,
    /^Deleted container: [0-9a-f]{12} \(tsproc-test-a\)\nDeleted image: sha256:[0-9a-f]{64}\n(Deleted layer: sha256:[0-9a-f]{64} \((1B|[0-9.]+MB)\)\n){2}Total reclaimed space: [0-9.]+MB\n$/,
    'then the container, the hidden image and its layers',
  );
  t.match(
    gc3.stdout,
    /\(1B\)\n[\s\S]*\([0-9.]+MB\)\n[\s\S]*Total|\([0-9.]+MB\)\n[\s\S]*\(1B\)\n[\s\S]*Total/,
    'its own layer and the base',
  );
  t.same(
    storeFiles(s.dataRoot).filter((f) => !f.startsWith('tmp/')),
    [],
    'an empty store, no container left',
  );
  t.same(s.leftovers(), []);
});

t.test('bad input: unknown image, no image, a bad --storage-driver: exit 125, nothing created', async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  await importImages(s, work, [{ ref: 'tsproc-test/bad:1', layers: [baseLayer(t)] }]);
  const root = busyboxRoot(t);
  const before = storeFiles(s.dataRoot);
  const cases: [string[], string][] = [
    [
      ['tsproc-test/nope:1', 'true'],
      'tsproc: no such image: tsproc-test/nope:1 (tsproc images lists them; tsproc image import adds one; a directory is run with --rootfs DIR)\n',
    ],
    [['ls'], 'tsproc: no such image: ls (tsproc images lists them; tsproc image import adds one; a directory is run with --rootfs DIR)\n'],
    [[], 'tsproc: no image given: tsproc run [OPTIONS] IMAGE [CMD [ARG...]], or tsproc run [OPTIONS] --rootfs DIR CMD [ARG...]\n'],
    [['--storage-driver', 'zfs', 'tsproc-test/bad:1', 'true'], 'tsproc: --storage-driver: wants overlay or vfs, not "zfs"\n'],
    [
      ['--storage-driver', 'vfs', '--rootfs', root, 'true'],
      'tsproc: --storage-driver is for images: a --rootfs directory is used in place\n',
    ],
    [
      ['--name', 'tsproc-test-bad', 'tsproc-test/bad:1', '-u', 'nobody'],
      'tsproc: -u: executable file not found in the container (PATH or the path given)\n',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await s.run(args);
    t.equal(r.status, args.includes('-u') ? 127 : 125, args.join(' '));
    t.equal(r.stderr, message);
  }
  t.equal((await s.cli(['rm', 'tsproc-test-bad'])).status, 0, 'options end at the image: -u there was the command');
  t.same(s.records(), [], 'no container record');
  t.same(existsSync(join(s.dataRoot, 'names')) ? readdirSync(join(s.dataRoot, 'names')) : [], [], 'no name taken');
  t.same(
    storeFiles(s.dataRoot).filter((f) => !f.startsWith('containers') && !f.startsWith('names')),
    before,
    'the store unchanged',
  );
  t.same(s.leftovers(), []);
  for (const args of [
    ['--rootfs', root, 'tsproc-test/bad:1'],
    ['--rootfs', root, '--', 'tsproc-test/bad:1'],
  ]) {
    const r = await s.run(['--rm', ...args]);
    t.equal(r.status, 127, `${args.join(' ')}: a command, even if an image has that name`);
    t.match(r.stderr, /tsproc-test\/bad:1: executable file not found/);
  }
});
