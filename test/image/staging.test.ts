// Scratch directories name their owner in their own name: one whose owner file was never written (its
// process killed right after mkdtemp) is still known for live or dead, never kept for a minute on its age.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Staging } from '../../runner/image/staging.js';
import { ownIdentity } from '../../src/process-identity.js';

t.test('without an owner file: the name says whose; a name of before, its age', async (t) => {
  const tmp = mkdtempSync('/tmp/tsproc-test-staging-');
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const me = ownIdentity();
  const live = `create-${me.pid}-${me.start}-AbC123`;
  const dead = `create-${me.pid}-${Number(me.start) + 1}-AbC123`; // this pid, another start: a killed run's
  const old = 'import-999999999-XyZ789'; // the former name, just made: kept for now
  for (const d of [live, dead, old]) mkdirSync(join(tmp, d));
  const made = new Staging(tmp, 'create');
  t.match(made.dir, new RegExp(`/create-${me.pid}-${me.start}-[A-Za-z0-9]{6}$`), 'a new one: KIND-PID-START-XXXXXX');
  t.same(Staging.live(tmp, 'create').sort(), [live, made.dir.split('/').pop()].sort());
  t.equal(Staging.sweep(tmp, 'import'), 0, 'another kind is left alone');
  t.equal(Staging.sweep(tmp, 'create'), 1);
  t.notOk(existsSync(join(tmp, dead)), 'the dead one went');
  t.same(readdirSync(tmp).sort(), [live, old, made.dir.split('/').pop()].sort());
  made.publish(join(tmp, 'published'));
  t.same(readdirSync(join(tmp, 'published')), [], 'published whole, without its owner file');
});
