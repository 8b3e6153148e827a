// The image config: parsed strictly, and merged with `tsproc run`'s overrides as docker does.
import t from 'tap';
import { applyImageConfig, mergeEnv, parseConfig } from '../../runner/image/image-config.js';
import { parseDigest } from '../../runner/image/digest.js';

const D = `sha256:${'a'.repeat(64)}`;
const image = { entrypoint: ['/entry'], cmd: ['-x', 'default'], env: ['PATH=/usr/bin:/bin', 'A=1'], workingDir: '/srv', user: 'app' };

t.test('parse: the run fields and diff_ids; a config without rootfs is refused', async (t) => {
  const c = parseConfig(
    Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [D] }, config: { Cmd: ['sh'], Env: ['A=1'], User: '1000' } })),
    'x',
  );
  t.same(c.diffIds, [D]);
  t.same(c.run, { entrypoint: [], cmd: ['sh'], env: ['A=1'], workingDir: '', user: '1000' });
  t.throws(() => parseConfig(Buffer.from('{}'), 'x'), /no rootfs.diff_ids/);
  t.throws(() => parseConfig(Buffer.from('nope'), 'x'), /not valid JSON/);
  t.throws(
    () => parseConfig(Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: ['md5:x'] } })), 'x'),
    /md5 is not supported/,
  );
  t.throws(
    () => parseConfig(Buffer.from(JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: 'sh' } })), 'x'),
    /Cmd is not a list/,
  );
});

t.test('the image alone: Entrypoint + Cmd, its Env, WorkingDir and User', async (t) => {
  t.same(applyImageConfig(image, {}), {
    argv: ['/entry', '-x', 'default'],
    env: ['PATH=/usr/bin:/bin', 'A=1'],
    workdir: '/srv',
    user: 'app',
  });
});

t.test('CMD replaces Cmd and keeps Entrypoint; --entrypoint drops Cmd; empty --entrypoint clears it', async (t) => {
  t.same(applyImageConfig(image, { cmd: ['run'] }).argv, ['/entry', 'run']);
  t.same(applyImageConfig(image, { entrypoint: '/bin/sh' }).argv, ['/bin/sh']);
  t.same(applyImageConfig(image, { entrypoint: '/bin/sh', cmd: ['-c', 'id'] }).argv, ['/bin/sh', '-c', 'id']);
  t.same(applyImageConfig(image, { entrypoint: '', cmd: ['ls'] }).argv, ['ls']);
  t.throws(() => applyImageConfig({ ...image, entrypoint: [], cmd: [] }, {}), { message: /no command/, exitCode: 125 });
});

t.test('-e by key over the image Env; -w and -u over the image', async (t) => {
  const r = applyImageConfig(image, { env: ['A=2', 'B=3'], workdir: '/tmp', user: '0:0' });
  t.same(r.env, ['PATH=/usr/bin:/bin', 'A=2', 'B=3']);
  t.equal(r.workdir, '/tmp');
  t.equal(r.user, '0:0');
  t.equal(applyImageConfig({ ...image, workingDir: '' }, {}).workdir, '/');
  t.same(mergeEnv(['X=1=2'], ['X=3']), ['X=3']);
});

t.test('digests: sha256 only, 64 lowercase hex', async (t) => {
  t.equal(parseDigest(D, 'd'), D);
  t.throws(() => parseDigest(`sha512:${'a'.repeat(128)}`, 'd'), /sha512 is not supported/);
  t.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`, 'd'), /not a sha256 digest/);
  t.throws(() => parseDigest('../../etc/passwd', 'd'), /not a digest/);
});
