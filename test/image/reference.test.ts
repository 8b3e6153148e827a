// Image names: docker's grammar, the default tag, ids and their prefixes.
import t from 'tap';
import { idPrefix, isBareTag, normalizeName, splitName } from '../../runner/image/reference.js';

t.test('names get :latest; tags and registries are kept', async (t) => {
  t.equal(normalizeName('busybox'), 'busybox:latest');
  t.equal(normalizeName('busybox:1.36'), 'busybox:1.36');
  t.equal(normalizeName('docker.io/library/busybox:1.36.1'), 'docker.io/library/busybox:1.36.1');
  t.equal(normalizeName('localhost:5000/team/app'), 'localhost:5000/team/app:latest');
  t.equal(normalizeName('my_app-2/x.y'), 'my_app-2/x.y:latest');
});

t.test('bad names are refused saying why, as usage errors', async (t) => {
  t.throws(() => normalizeName('BusyBox'), { message: /lowercase/, exitCode: 1 });
  t.throws(() => normalizeName('a:b:c'), /lowercase|tag/);
  t.throws(() => normalizeName('busybox:'), /tag "" is not valid/);
  t.throws(() => normalizeName('busybox@sha256:abc'), /digest references/);
  t.throws(() => normalizeName('-x'), /lowercase/);
  t.throws(() => normalizeName(`x:${'a'.repeat(129)}`), /tag/);
});

t.test('ids and prefixes', async (t) => {
  t.equal(idPrefix('sha256:abc123'), 'abc123');
  t.equal(idPrefix('abc123'), 'abc123');
  t.equal(idPrefix('busybox'), undefined);
  t.ok(isBareTag('latest'));
  t.notOk(isBareTag('busybox/x'));
  t.same(splitName('localhost:5000/a:v1'), { repository: 'localhost:5000/a', tag: 'v1' });
});
