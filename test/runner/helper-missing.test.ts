// A machine without a C compiler: npm install goes on without the runner's helper (the build says why),
// the daemon needs none of it, and run and exec refuse by name before anything is made.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELPER, requireHelper } from '../../runner/helper-process.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

t.test('the build without a compiler: exit 0, a warning naming what is missing, no helper', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-nocc-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(repo, 'scripts/build-native.js'), join(dir, 'scripts/build-native.js'));
  cpSync(join(repo, 'native'), join(dir, 'native'), { recursive: true, filter: (p) => !p.includes('/build') });
  const r = spawnSync(process.execPath, [join(dir, 'scripts/build-native.js')], {
    encoding: 'utf8',
    env: { ...process.env, CC: 'tsproc-test-no-such-cc' },
  });
  t.equal(r.status, 0, 'npm install goes on');
  t.match(
    r.stderr,
    /^tsproc: no C compiler \(tsproc-test-no-such-cc\): the runner's helper is not built\. tsproc mount works without it; tsproc run and exec need it \(install gcc and libc6-dev, then npm run build\)\.\n$/,
  );
  t.notOk(existsSync(join(dir, 'native/build/tsproc-helper')), 'no helper');
  // a compiler that fails is not hidden
  const broken = spawnSync(process.execPath, [join(dir, 'scripts/build-native.js')], {
    encoding: 'utf8',
    env: { ...process.env, CC: 'false' },
  });
  t.equal(broken.status, 1, 'a failing compiler fails the build');
  t.match(broken.stderr, /tsproc: building the native helper failed: false -O2/);
});

t.test('run and exec without the helper: exit 125, naming the file and the fix', async (t) => {
  t.doesNotThrow(() => requireHelper(), `the built helper ${HELPER} is there`);
  t.throws(() => requireHelper('/tmp/tsproc-test-no-helper/tsproc-helper'), {
    code: 'ENOENT',
    exitCode: 125,
    path: '/tmp/tsproc-test-no-helper/tsproc-helper',
    message:
      "the runner's C helper /tmp/tsproc-test-no-helper/tsproc-helper is not built: install a C compiler and libc headers (Debian: gcc libc6-dev), then run npm run build in the tsproc directory (the daemon, tsproc mount, needs neither)",
  });
});
