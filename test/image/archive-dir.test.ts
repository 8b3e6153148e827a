// Which files of an image layout are blobs (runner/image/archive-dir.ts): regular files that stay inside, links
// followed only while they stay inside, never a FIFO or a device, never read past a declared size. No root needed.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveDir, MAX_JSON } from '../../runner/image/archive-dir.js';

function layout(t: Test): { dir: string; archive: ArchiveDir } {
  const dir = mkdtempSync('/tmp/tsproc-test-archive-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(dir, 'blobs/sha256/plain'), '{"a":1}');
  return { dir, archive: new ArchiveDir(dir, 'layout') };
}

t.test('a regular file is read; a link that stays inside is followed, through a chain and back up', async (t) => {
  const { dir, archive } = layout(t);
  t.equal(archive.readSmall('blobs/sha256/plain', 'plain').toString(), '{"a":1}');
  mkdirSync(join(dir, 'shared'));
  writeFileSync(join(dir, 'shared/x'), 'shared');
  symlinkSync('../../shared/x', join(dir, 'blobs/sha256/link'));
  symlinkSync('link', join(dir, 'blobs/sha256/chain'));
  symlinkSync('../blobs', join(dir, 'shared/up'));
  t.equal(archive.readSmall('blobs/sha256/link', 'link').toString(), 'shared');
  t.equal(archive.readSmall('blobs/sha256/chain', 'chain').toString(), 'shared');
  t.equal(archive.readSmall('shared/up/sha256/plain', 'through a directory link').toString(), '{"a":1}');
  t.ok(archive.has('blobs/sha256/chain'));
});

t.test('links out are refused, naming the link: absolute, climbing out, a directory on the way', async (t) => {
  const { dir, archive } = layout(t);
  symlinkSync('/etc/passwd', join(dir, 'blobs/sha256/abs'));
  symlinkSync('../../../etc/passwd', join(dir, 'blobs/sha256/climb'));
  t.throws(() => archive.open('blobs/sha256/abs', 'blob'), {
    message: 'blob: blobs/sha256/abs: a symbolic link to /etc/passwd, outside the layout: refused',
  });
  t.throws(() => archive.open('blobs/sha256/climb', 'blob'), {
    message: 'blob: blobs/sha256/climb: a symbolic link to ../../../etc/passwd, outside the layout: refused',
  });
  rmSync(join(dir, 'blobs/sha256'), { recursive: true });
  symlinkSync('/etc', join(dir, 'blobs/sha256'));
  t.throws(() => archive.open('blobs/sha256/passwd', 'blob'), {
    message: 'blob: blobs/sha256/passwd: blobs/sha256 is a symbolic link to /etc, outside the layout: refused',
  });
  t.throws(() => archive.open('../etc/passwd', 'blob'), { message: 'blob: ../etc/passwd: leads outside the layout: refused' });
});

t.test('a link loop ends as the kernel would end it', async (t) => {
  const { dir, archive } = layout(t);
  symlinkSync('b', join(dir, 'a'));
  symlinkSync('a', join(dir, 'b'));
  t.throws(() => archive.open('a', 'loop'), { message: 'loop: a: too many symbolic links', code: 'ELOOP' });
});

t.test('a FIFO, a directory, nothing: refused at once, saying which', async (t) => {
  const { dir, archive } = layout(t);
  spawnSync('mkfifo', [join(dir, 'blobs/sha256/fifo')]);
  t.throws(() => archive.open('blobs/sha256/fifo', 'blob'), { message: 'blob: blobs/sha256/fifo: not a regular file (a FIFO)' });
  t.throws(() => archive.open('blobs', 'blob'), { message: 'blob: blobs: not a regular file (a directory)' });
  t.throws(() => archive.open('blobs/sha256/none', 'blob'), { message: 'blob: blobs/sha256/none: not in the layout', code: 'ENOENT' });
  t.notOk(archive.has('blobs/sha256/none'));
  t.throws(() => archive.open('blobs/sha256/plain/x', 'blob'), {
    message: 'blob: blobs/sha256/plain/x: blobs/sha256/plain is not a directory',
  });
});

t.test('never read past a size: the declared one, or MAX_JSON for a document', async (t) => {
  const { dir, archive } = layout(t);
  const huge = join(dir, 'blobs/sha256/huge');
  writeFileSync(huge, '');
  truncateSync(huge, 3 * 2 ** 30); // a hole: read whole, it would take 3 GiB
  t.throws(() => archive.readSmall('blobs/sha256/huge', 'config', 233), {
    message: 'config: size mismatch: the descriptor says 233 bytes, the content has 3221225472 (corrupted or truncated)',
  });
  t.throws(() => archive.readSmall('blobs/sha256/huge', 'config'), {
    message: `config: blobs/sha256/huge: 3221225472 bytes: more than a JSON document may have (${MAX_JSON >> 20} MiB): refused`,
  });
  const chunks: Buffer[] = [];
  for await (const c of archive.stream('blobs/sha256/huge', 100_000)) chunks.push(c as Buffer);
  t.equal(Buffer.concat(chunks).length, 100_001, 'a stream stops one byte past its limit');
  const { fd, size } = archive.open('blobs/sha256/plain', '');
  closeSync(fd);
  t.equal(size, 7);
});
