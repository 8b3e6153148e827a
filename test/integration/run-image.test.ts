// `tsproc run IMAGE` for real: the merged tree of several layers (whiteouts, an opaque directory) as umoci
// unpacks it, the image's config and each override, copy-on-write between containers, --read-only, --rm,
// the vfs driver (forced, and chosen by itself with a message).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratch, sh, tarBytes } from '../helpers/images.js';
import { baseLayer, hostTree, imageLines, importImages, storeFingerprint, TREE_SCRIPT, upperLayers } from '../helpers/run-images.js';
import { cannotRun, sandbox, until } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('the merged tree of several layers, whiteouts and an opaque directory is what umoci unpacks', async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  const layout = await importImages(s, work, [{ ref: 'tsproc-test/layers:1', layers: [baseLayer(t), ...upperLayers()] }]);
  const ran = await s.run(['--rm', 'tsproc-test/layers:1', 'busybox', 'sh', '-c', TREE_SCRIPT, 'sh', '/']);
  t.equal(ran.status, 0, ran.stderr);
  sh('umoci', ['unpack', '--image', `${layout}:tsproc-test/layers:1`, join(work, 'reference')]);
  const reference = imageLines(hostTree(join(work, 'reference/rootfs')));
  t.ok(reference.length > 100, `a tree worth comparing (${reference.length} lines)`);
  t.same(imageLines(ran.stdout), reference, 'every path, mode, owner, time, device, link target and content, as umoci unpacks it');
  const ls = await s.run(['--rm', 'tsproc-test/layers:1', 'ls', '/opt/app', '/var/cache', '/etc/os-release']);
  t.equal(
    ls.stdout,
    '/etc/os-release\n\n/opt/app:\nnewer\n\n/var/cache:\nfresh\n',
    'ls: layer 1 hidden by the opaque dir and the whiteouts',
  );
  t.same(s.records(), []);
  t.same(s.leftovers(), []);
});

t.test("the image's Entrypoint, Cmd, Env, WorkingDir and User apply; each override wins", async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  const config = {
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo "$GREETING from $(pwd) as $(id -un)"'],
    Env: ['PATH=/bin', 'GREETING=hello'],
    WorkingDir: '/srv/app',
    User: 'alice',
  };
  await importImages(s, work, [
    { ref: 'tsproc-test/config:1', layers: [baseLayer(t)], config },
    { ref: 'tsproc-test/nocmd:1', layers: [baseLayer(t)], config: { Env: ['PATH=/bin'] } },
  ]);
  const run = async (...args: string[]) => {
    const r = await s.run(['--rm', ...args]);
    t.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  t.equal(await run('tsproc-test/config:1'), 'hello from /srv/app as alice\n', 'the config as it is (WorkingDir made, as docker does)');
  t.equal(await run('tsproc-test/config:1', 'echo replaced'), 'replaced\n', 'CMD replaces Cmd; the Entrypoint stays');
  t.equal(await run('--entrypoint', '/bin/echo', 'tsproc-test/config:1'), '\n', '--entrypoint drops the Cmd');
  t.equal(await run('--entrypoint', '/bin/echo', 'tsproc-test/config:1', 'a', 'b'), 'a b\n', '--entrypoint with a CMD');
  t.equal(await run('-e', 'GREETING=bye', 'tsproc-test/config:1'), 'bye from /srv/app as alice\n', '-e overrides Env');
  t.equal(await run('-w', '/tmp', 'tsproc-test/config:1'), 'hello from /tmp as alice\n', '-w overrides WorkingDir');
  t.equal(await run('-u', 'root', 'tsproc-test/config:1'), 'hello from /srv/app as root\n', '-u overrides User');
  const env = (await run('--entrypoint', 'env', 'tsproc-test/config:1')).split('\n').filter(Boolean).sort();
  t.same(
    env,
    ['GREETING=hello', 'HOME=/home/alice', `HOSTNAME=${env.find((e) => e.startsWith('HOSTNAME='))!.slice(9)}`, 'PATH=/bin'],
    "the image's PATH, not docker's default; HOME from its passwd",
  );
  const none = await s.run(['--rm', 'tsproc-test/nocmd:1']);
  t.equal(none.status, 125);
  t.equal(none.stderr, 'tsproc: no command: the image has no Entrypoint or Cmd, and none was given\n');
  t.equal(await run('tsproc-test/nocmd:1', 'echo', 'given'), 'given\n');
  t.same(s.records(), []);
  t.same(s.leftovers(), []);
});

t.test("copy-on-write: a container's writes are its own, a second container sees the image, the layer store never changes", async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  await importImages(s, work, [
    { ref: 'tsproc-test/cow:1', layers: [baseLayer(t), tarBytes([{ path: 'etc/' }, { path: 'etc/.wh.group' }])] },
  ]);
  const before = storeFingerprint(s.dataRoot);
  const d = await s.run([
    '-d',
    '--name',
    'tsproc-test-cow',
    'tsproc-test/cow:1',
    'sh',
    '-c',
    'echo changed > /etc/motd; rm /bin/cat; echo 10.9.9.9 db >> /etc/hosts; mkdir /srv; touch /srv/ready; exec sleep 600',
  ]);
  t.equal(d.status, 0, d.stderr);
  const id = d.stdout.trim();
  const upper = join(s.dataRoot, 'containers', id, 'upper');
  await until('the container has written', () => existsSync(join(upper, 'srv/ready')));
  const ex = await s.cli(['exec', 'tsproc-test-cow', 'sh', '-c', 'cat /etc/motd; ls /bin/cat || echo no-cat; tail -n1 /etc/hosts']);
  t.equal(ex.stdout, 'changed\nno-cat\n10.9.9.9 db\n', 'the container sees its writes, its deletion, its /etc/hosts');
  const other = await s.run([
    '--rm',
    'tsproc-test/cow:1',
    'sh',
    '-c',
    'cat /etc/motd; ls /bin/cat; ls -d /srv || echo no-srv; grep -c db /etc/hosts; ls /etc/group || echo whited-out',
  ]);
  t.equal(other.stdout, 'original\n/bin/cat\nno-srv\n0\nwhited-out\n', 'a second container from the same image sees the image');
  t.equal(readFileSync(join(upper, 'etc/motd'), 'utf8'), 'changed\n', 'the write is in the writable layer');
  t.equal(
    spawnSync('stat', ['-c', '%F %t:%T', join(upper, 'bin/cat')], { encoding: 'utf8' }).stdout,
    'character special file 0:0\n',
    'the deletion is a whiteout there',
  );
  t.notMatch(readFileSync(join(s.dataRoot, 'containers', id, 'init/etc/hosts'), 'utf8'), /db/, 'the init layer is not written either');
  t.equal((await s.cli(['stop', '-t', '0', 'tsproc-test-cow'])).status, 0);
  t.match(
    (await s.cli(['ps', '-a'])).stdout,
    /tsproc-test-cow\s+tsproc-test\/cow:1\s+"sh -c echo.*Exited \(137\)/,
    'ps -a: exited, with its image',
  );
  t.ok(existsSync(join(upper, 'etc/motd')), 'its writable layer stays with its record until rm');
  t.equal((await s.cli(['rm', 'tsproc-test-cow'])).status, 0);
  t.same(s.records(), [], 'rm: the record and its layers are gone');
  t.equal(storeFingerprint(s.dataRoot), before, 'the layer store is byte for byte, time for time, attribute for attribute unchanged');
  t.same(s.leftovers(), []);
});

t.test('--read-only: no writable layer; the /etc files are there; a mount point the image lacks is refused clearly', async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  await importImages(s, work, [{ ref: 'tsproc-test/ro:1', layers: [baseLayer(t)] }]);
  const ro = await s.run([
    '--rm',
    '--read-only',
    '--hostname',
    'ro1',
    '--add-host',
    'db:10.1.1.1',
    'tsproc-test/ro:1',
    'sh',
    '-c',
    'cat /etc/hostname; grep db /etc/hosts; touch /etc/motd',
  ]);
  t.equal(ro.status, 1);
  t.equal(ro.stdout, 'ro1\n10.1.1.1\tdb\n', 'hostname and --add-host from the init layer');
  t.match(ro.stderr, /touch: \/etc\/motd: Read-only file system/);
  const vol = join(work, 'vol');
  mkdirSync(vol);
  writeFileSync(join(vol, 'f'), 'in the volume\n');
  t.equal(
    (await s.run(['--rm', '--read-only', '-v', `${vol}:/opt/app:ro`, 'tsproc-test/ro:1', 'cat', '/opt/app/f'])).stdout,
    'in the volume\n',
    'a volume on a directory the image has',
  );
  for (const [flags, path] of [
    [['-v', `${vol}:/nowhere`], '/nowhere'],
    [['-w', '/srv/app'], '/srv/app'],
  ] as const) {
    const r = await s.run(['--rm', '--read-only', ...flags, 'tsproc-test/ro:1', 'true']);
    t.equal(r.status, 125, flags.join(' '));
    t.equal(
      r.stderr,
      `tsproc: cannot create the directory ${path}: EROFS (read-only file system): the root is read-only (--read-only, which gives an image no writable layer, or a read-only filesystem), so it must already be in it\n`,
    );
  }
  t.same(s.records(), []);
  t.same(s.leftovers(), []);
});

t.test('--rm leaves nothing: record, writable and init layers, name', async (t) => {
  const s = sandbox(t);
  const work = scratch(t, 'run-image');
  await importImages(s, work, [{ ref: 'tsproc-test/rm:1', layers: [baseLayer(t)] }]);
  const r = await s.run(['--rm', '--name', 'tsproc-test-rm', 'tsproc-test/rm:1', 'sh', '-c', 'echo x > /etc/written; exit 3']);
  t.equal(r.status, 3);
  t.same(readdirSync(join(s.dataRoot, 'containers')), [], 'no record, no layers');
  t.same(readdirSync(join(s.dataRoot, 'names')), []);
  t.same(s.leftovers(), []);
});

t.test(
  'vfs: forced with --storage-driver; chosen by itself where overlayfs cannot be (the data root on overlayfs), with a message',
  async (t) => {
    const work = scratch(t, 'run-image');
    // a data root on overlayfs, as tsproc inside a container would have
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(work, d));
    sh('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${work}/lower,upperdir=${work}/upper,workdir=${work}/work`,
      join(work, 'merged'),
    ]);
    const s = sandbox(t, { dataRoot: join(work, 'merged/data') });
    // (overlayfs refuses whiteouts and opaque markers in it: no layer of this image has one)
    await importImages(s, work, [
      {
        ref: 'tsproc-test/vfs:1',
        layers: [baseLayer(t), tarBytes([{ path: 'opt/' }, { path: 'opt/app/' }, { path: 'opt/app/top', data: 't' }])],
      },
    ]);
    const auto = await s.run([
      '--name',
      'tsproc-test-vfs',
      'tsproc-test/vfs:1',
      'sh',
      '-c',
      'echo written > /etc/motd; cat /etc/motd; ls /opt/app',
    ]);
    t.equal(auto.status, 0, auto.stderr);
    t.equal(auto.stdout, 'written\na\nb\nsub\ntop\n', 'both layers, and a write');
    t.match(
      auto.stderr,
      /^tsproc: .*\/containers\/[0-9a-f]{64} is on overlayfs, which cannot hold an overlayfs upper directory: using the vfs storage driver \(a full copy of the image for this container\)\n$/,
    );
    const inspect = JSON.parse((await s.cli(['inspect', 'tsproc-test-vfs'])).stdout) as { GraphDriver: { Name: string } }[];
    t.equal(inspect[0]!.GraphDriver.Name, 'vfs');
    const forced = await s.run(['--rm', '--storage-driver', 'overlay', 'tsproc-test/vfs:1', 'true']);
    t.equal(forced.status, 125);
    t.match(
      forced.stderr,
      /^tsproc: cannot prepare the container's root from the image tsproc-test\/vfs:1: --storage-driver overlay: \S+ is on overlayfs, which cannot hold an overlayfs upper directory\n$/,
      'overlay forced where it cannot work: refused with the reason',
    );
    t.equal((await s.cli(['rm', 'tsproc-test-vfs'])).status, 0);
    // forced, on an ordinary filesystem: the same tree as overlayfs gives
    const plain = sandbox(t);
    await importImages(plain, work, [{ ref: 'tsproc-test/vfs:1', layers: [baseLayer(t), ...upperLayers()] }]);
    const overlay = await plain.run(['--rm', 'tsproc-test/vfs:1', 'busybox', 'sh', '-c', TREE_SCRIPT, 'sh', '/']);
    const vfs = await plain.run(['--rm', '--storage-driver', 'vfs', 'tsproc-test/vfs:1', 'busybox', 'sh', '-c', TREE_SCRIPT, 'sh', '/']);
    t.equal(vfs.status, 0, vfs.stderr);
    t.equal(vfs.stderr, '', 'forced: nothing to explain');
    t.same(imageLines(vfs.stdout), imageLines(overlay.stdout), 'the vfs copy is the overlay');
    t.same([...s.records(), ...plain.records()], []);
    t.same([...s.leftovers(), ...plain.leftovers()], []);
  },
);
