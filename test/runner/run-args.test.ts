// Which root `tsproc run`'s arguments name: IMAGE and its command, or --rootfs DIR and the command; no
// image refused (exit 125) before anything is made. Pure: no store, no root.
import t from 'tap';
import { splitRunArgs } from '../../runner/run-args.js';

t.test('IMAGE [CMD...], or --rootfs DIR CMD...', async (t) => {
  t.same(splitRunArgs(undefined, ['busybox']), { image: 'busybox', cmd: [] });
  t.same(splitRunArgs(undefined, ['busybox', 'ls', '-l']), { image: 'busybox', cmd: ['ls', '-l'] });
  t.same(splitRunArgs('/r', ['ls', '-l']), { cmd: ['ls', '-l'] });
  t.same(splitRunArgs('/r', ['busybox', 'ls']), { cmd: ['busybox', 'ls'] }, 'with --rootfs, a command even if an image has its name');
});

t.test('no image: refused, exit status 125', async (t) => {
  t.throws(() => splitRunArgs(undefined, []), { message: /^no image given: tsproc run \[OPTIONS\] IMAGE/, exitCode: 125 });
  t.throws(() => splitRunArgs(undefined, ['']), { message: /^no image given/, exitCode: 125 });
});
