// The parts of preparing a root that need no root: overlayfs's option string and the storage driver choice.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { overlayMountData } from '../../runner/image/prepare-root.js';
import { MAX_MOUNT_DATA, chooseDriver } from '../../runner/image/storage-driver.js';

t.test('mount data: lowerdirs top first, upper and work only when writable', async (t) => {
  t.equal(
    overlayMountData({ lowerdirs: ['/c/init', '/l/2', '/l/1'], upperdir: '/c/upper', workdir: '/c/work' }),
    'lowerdir=/c/init:/l/2:/l/1,upperdir=/c/upper,workdir=/c/work',
  );
  t.equal(overlayMountData({ lowerdirs: ['/c/init', '/l/1'] }), 'lowerdir=/c/init:/l/1');
});

t.test('paths overlayfs cannot take in its options are refused by name', async (t) => {
  for (const bad of ['/data,x/l', '/data:x/l', '/data\\x'])
    t.throws(() => overlayMountData({ lowerdirs: [bad] }), { message: /overlayfs cannot take the path/, path: bad });
});

t.test('driver: forced vfs is vfs; too many layers for one mount falls back to vfs, saying why', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-driver-');
  t.teardown(() => rmSync(dir, { recursive: true }));
  t.same(chooseDriver(dir, 100, 'vfs'), { driver: 'vfs' });
  const auto = chooseDriver(dir, MAX_MOUNT_DATA + 1);
  t.equal(auto.driver, 'vfs');
  t.match(auto.reason, /too many layers for one overlayfs mount.*: using the vfs storage driver/);
  t.throws(() => chooseDriver(dir, MAX_MOUNT_DATA + 1, 'overlay'), /--storage-driver overlay: the image has too many layers/);
});
