// Records carry their format: a container whose record the previous release wrote (no `format`) still
// lists, stops and is removed; one a newer release wrote is neither listed nor touched, and refused by name.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { RECORD_FORMAT } from '../../runner/state.js';
import { busyboxRoot, cannotRun, sandbox, until } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test("the previous release's record (no format): ps, stop, rm; a newer one's: refused by name, listed by none", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const started = async (name: string) => {
    const r = await s.run(['--rootfs', root, '-d', '--name', name, 'sh', '-c', `touch /tmp/${name}; while true; do sleep 1; done`]);
    t.equal(r.status, 0, r.stderr);
    await until(`${name} runs`, () => existsSync(`${root}/tmp/${name}`));
    return { id: r.stdout.trim(), file: `${s.dataRoot}/containers/${r.stdout.trim()}/container.json` };
  };
  const old = await started('tsproc-test-old');
  const record = JSON.parse(readFileSync(old.file, 'utf8'));
  t.equal(record.format, RECORD_FORMAT, 'this release writes its format');
  t.equal(RECORD_FORMAT, 1);
  delete record.format;
  writeFileSync(old.file, JSON.stringify(record, null, 2));

  const newer = await started('tsproc-test-newer');
  const newerRecord = JSON.parse(readFileSync(newer.file, 'utf8'));
  writeFileSync(newer.file, JSON.stringify({ ...newerRecord, format: RECORD_FORMAT + 1 }, null, 2));

  const ps = await s.cli(['ps']);
  t.match(ps.stdout, /tsproc-test-old\s.*Up /, "the previous release's container is listed, running");
  t.notMatch(ps.stdout, /tsproc-test-newer/, "a newer release's is not listed");
  const refused = await s.cli(['stop', 'tsproc-test-newer']);
  t.equal(refused.status, 1);
  t.match(
    refused.stderr,
    new RegExp(
      `^tsproc: container ${newer.id.slice(0, 12)} was made by a newer tsproc \\(record format ${RECORD_FORMAT + 1}; this one reads up to ${RECORD_FORMAT}\\): use that release to control it\\n$`,
    ),
  );

  t.equal((await s.cli(['stop', '-t', '1', 'tsproc-test-old'])).status, 0, 'stop');
  t.match((await s.cli(['ps', '-a'])).stdout, /tsproc-test-old\s.*Exited \(\d+\)/, 'exited');
  t.equal((await s.cli(['rm', 'tsproc-test-old'])).status, 0, 'rm');
  t.notOk(existsSync(old.file), 'its record is gone');

  // give the newer one back its format so that this test's teardown (this release) can end it
  writeFileSync(newer.file, JSON.stringify(newerRecord, null, 2));
  t.equal((await s.cli(['rm', '-f', 'tsproc-test-newer'])).status, 0);
});
