// rmi and gc over a fake container store: images in use are refused (or hidden with -f), gc removes exited
// containers, then what nothing uses, and not one byte of what is still used.
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ContainerRef, type ContainerRefs, ImageStore, collectGarbage, removeImages } from '../../runner/image/index.js';
import { busyboxTree, listing, scratch, storeFiles, tarBytes, tarDir, tsproc, writeOciLayout } from '../helpers/images.js';
import { Staging } from '../../runner/image/staging.js';
import type { Digest } from '../../runner/image/digest.js';

if (process.getuid?.() !== 0) t.plan(0, 'importing images needs root');

/** Containers as the runner's store will report them; remove() records what gc asked for. */
class FakeContainers implements ContainerRefs {
  removed: string[] = [];
  constructor(public refs: ContainerRef[]) {}
  list() {
    return this.refs;
  }
  remove(id: string) {
    this.removed.push(id);
    this.refs = this.refs.filter((c) => c.id !== id);
    return 4096;
  }
}

/** Images a (base + a-only) and b (base + b-only), sharing the base layer. */
function twoImages(work: string): { store: ImageStore; base: Digest; aOnly: Digest; bOnly: Digest } {
  const base = tarDir(busyboxTree(join(work, 'base')));
  const layout = join(work, 'layout');
  writeOciLayout(layout, [
    { ref: 'docker.io/test/a:1', layers: [base, tarBytes([{ path: 'a', data: 'a' }])] },
    { ref: 'docker.io/test/b:1', layers: [base, tarBytes([{ path: 'b', data: 'b' }])] },
  ]);
  const r = tsproc(join(work, 'data'), ['image', 'import', layout]);
  if (r.status !== 0) throw new Error(r.stderr);
  const store = new ImageStore(join(work, 'data'));
  const [b0, a1] = store.resolve('docker.io/test/a:1').config.diffIds;
  return { store, base: b0!, aOnly: a1!, bOnly: store.resolve('docker.io/test/b:1').config.diffIds[1]! };
}

const container = (id: string, image: Digest, running: boolean): ContainerRef => ({ id: id.repeat(64), name: `c-${id}`, image, running });

t.test('rmi: refused while a container uses the image; -f hides it; gc removes it once the container is gone', async (t) => {
  const work = scratch(t, 'gc');
  const { store, base, aOnly, bOnly } = twoImages(work);
  const a = store.resolve('docker.io/test/a:1');
  const fake = new FakeContainers([container('1', a.id, true)]);
  const bLayers =
    JSON.stringify(listing(store.paths.layer(bOnly), { times: true })) + JSON.stringify(listing(store.paths.layer(base), { times: true }));

  await t.rejects(removeImages(store, ['docker.io/test/a:1'], fake), {
    message: /image docker\.io\/test\/a:1 is used by container c-1 \(111111111111, running\): remove it first, or use -f/,
    code: 'EBUSY',
  });
  t.same(store.resolve('docker.io/test/a:1').names, ['docker.io/test/a:1'], 'refused: nothing changed');

  const r = await removeImages(store, ['docker.io/test/a:1'], fake, { force: true });
  t.same([r.untagged, r.deleted, r.hidden, r.layers], [['docker.io/test/a:1'], [], [a.id], []]);
  t.same(
    store.images().map((i) => i.names),
    [['docker.io/test/b:1']],
    'hidden from the list',
  );
  t.throws(() => store.resolve(a.id), /no such image/, 'and from lookups');
  t.ok(store.hasLayer(aOnly), 'its layers stay while the container runs');

  let gc = await collectGarbage(store, fake);
  t.same([gc.containers, gc.images, gc.layers], [[], [], []], 'gc with the container running frees nothing');

  fake.refs[0]!.running = false;
  gc = await collectGarbage(store, fake);
  t.same(fake.removed, ['1'.repeat(64)], 'the exited container is removed through the runner');
  t.same(gc.containers, [{ id: '1'.repeat(64), name: 'c-1', bytes: 4096 }]);
  t.same(gc.images, [a.id], 'then the hidden image');
  t.same(
    gc.layers.map((l) => l.diffId),
    [aOnly],
    'then the one layer only it had',
  );
  t.ok(gc.layers[0]!.size > 0);
  t.ok(store.hasLayer(base), 'the shared base stays (b uses it)');
  t.equal(
    JSON.stringify(listing(store.paths.layer(bOnly), { times: true })) + JSON.stringify(listing(store.paths.layer(base), { times: true })),
    bLayers,
    "b's layers are byte for byte unchanged",
  );
  gc = await collectGarbage(store, fake);
  t.same([gc.containers, gc.images, gc.layers], [[], [], []], 'a second gc finds nothing');
});

t.test('rmi of one name of several untags; by id needs -f; the last name takes its unused layers', async (t) => {
  const work = scratch(t, 'gc');
  const { store, base, bOnly } = twoImages(work);
  const data = join(work, 'data');
  const b = store.resolve('docker.io/test/b:1');
  store.setName('extra:tag', b.id);
  const none = new FakeContainers([]);
  await t.rejects(
    removeImages(store, [b.id.slice(7, 19)], none),
    /has several names \(docker\.io\/test\/b:1, extra:tag\): remove them by name, or use -f/,
  );
  let r = await removeImages(store, ['extra:tag'], none);
  t.same([r.untagged, r.deleted], [['extra:tag'], []], 'one name of two: untagged only');
  r = await removeImages(store, ['docker.io/test/b:1'], none);
  t.same([r.deleted, r.layers.map((l) => l.diffId)], [[b.id], [bOnly]], 'the last name: the image and the layer only it had');
  t.ok(store.hasLayer(base), 'not the base, which a uses');
  // the CLI: rmi by id, then gc with nothing left to do
  const a = store.resolve('docker.io/test/a:1');
  const cli = tsproc(data, ['rmi', a.id]);
  t.equal(cli.status, 0, cli.stderr);
  t.match(cli.stdout, /^Untagged: docker\.io\/test\/a:1\nDeleted: sha256:[0-9a-f]{64}\nFreed 2 layers, [0-9.]+MB\n$/);
  t.same(storeFiles(data), [], 'an empty store');
  t.equal(tsproc(data, ['gc']).stdout, 'Total reclaimed space: 0B\n');
});

t.test('gc: stray layers and killed imports go; layers are left alone while an import runs', async (t) => {
  const work = scratch(t, 'gc');
  const { store, base } = twoImages(work);
  // a stray layer (an interrupted removal of old, or copied in by hand) and a killed import's scratch dir
  const stray = `sha256:${'e'.repeat(64)}` as const;
  mkdirSync(join(store.paths.layer(stray), 'diff'), { recursive: true });
  writeFileSync(join(store.paths.layer(stray), 'layer.json'), JSON.stringify({ diffId: stray, size: 123, whiteouts: [], opaques: [] }));
  mkdirSync(join(store.paths.tmp, 'import-999999-dead'));
  writeFileSync(join(store.paths.tmp, 'import-999999-dead/owner.json'), JSON.stringify({ pid: 999999999, start: '1' }));
  // a live import (this process) holds the layers back
  const live = new Staging(store.paths.tmp, 'import');
  t.teardown(() => live.remove());
  let gc = await collectGarbage(store, new FakeContainers([]));
  t.equal(gc.scratch, 1, 'the dead import is swept');
  t.ok(gc.importRunning);
  t.same(gc.layers, [], 'no layer removed while an import runs');
  t.ok(store.hasLayer(stray));
  live.remove();
  const cli = tsproc(join(work, 'data'), ['gc']);
  t.equal(cli.status, 0, cli.stderr);
  t.equal(cli.stdout, `Deleted layer: ${stray} (123B)\nTotal reclaimed space: 123B\n`);
  t.notOk(existsSync(store.paths.layer(stray)));
  t.ok(store.hasLayer(base), 'used layers stay');
  t.same(readdirSync(store.paths.tmp), [], 'tmp is empty');
});
