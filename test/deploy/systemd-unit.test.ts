// deploy/systemd/tsproc.service: `systemd-analyze verify` finds nothing to say (on a copy whose paths are
// this checkout's: verify checks that ExecStart exists), the settings issue 11 asks for are there, and
// the Exec lines split as systemd splits them (what deploy-systemd.test runs).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execArgv, parseUnit, setting } from '../helpers/systemd-unit.js';

const UNIT = fileURLToPath(new URL('../../../deploy/systemd/tsproc.service', import.meta.url));
const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const ANALYZE = '/usr/bin/systemd-analyze';

/** `systemd-analyze verify` of the unit's text with /opt/tsproc made this checkout: its status and everything it printed. */
function verify(t: { teardown(fn: () => void): void }, text: string): { status: number | null; output: string } {
  const dir = mkdtempSync('/tmp/tsproc-test-unit-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(`${dir}/tsproc.service`, text.replaceAll('/opt/tsproc/', `${CHECKOUT}/`));
  const r = spawnSync(ANALYZE, ['verify', `${dir}/tsproc.service`], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

t.test(
  'systemd-analyze verify: exit 0, not a word',
  { skip: existsSync(ANALYZE) ? false : `no ${ANALYZE} (Debian's systemd package)` },
  async (t) => {
    const r = verify(t, readFileSync(UNIT, 'utf8'));
    t.equal(r.output, '', 'nothing printed');
    t.equal(r.status, 0);
  },
);

t.test(
  'systemd-analyze verify speaks up about a broken unit (so its silence means something)',
  { skip: existsSync(ANALYZE) ? false : `no ${ANALYZE}` },
  async (t) => {
    const text = readFileSync(UNIT, 'utf8');
    t.match(verify(t, text.replace('KillMode=mixed', 'KillMode=mixd')).output, /Failed to parse kill mode/);
    t.match(verify(t, text.replace('OOMScoreAdjust=', 'OOMScoreAdjst=')).output, /Unknown key 'OOMScoreAdjst'/);
    const missing = verify(t, text.replace('/opt/tsproc/bin/tsproc.js', '/opt/tsproc/bin/nothing.js'));
    t.match(missing.output, /is not executable: No such file or directory/);
    t.not(missing.status, 0);
  },
);

t.test(
  "the settings: the bin itself, reload in place, SIGTERM to the supervisor only, restart on failure, never the OOM killer's",
  async (t) => {
    const unit = parseUnit(UNIT);
    t.equal(setting(unit, 'Service', 'ExecStart'), '/opt/tsproc/bin/tsproc.js mount /var/lib/tsproc');
    t.equal(setting(unit, 'Service', 'ExecReload'), '/bin/kill -HUP $MAINPID');
    t.equal(setting(unit, 'Service', 'KillMode'), 'mixed');
    t.equal(setting(unit, 'Service', 'Restart'), 'on-failure');
    t.equal(setting(unit, 'Service', 'OOMScoreAdjust'), '-1000', 'the lowest score: the OOM killer never picks it');
    t.equal(setting(unit, 'Install', 'WantedBy'), 'multi-user.target');
    const before = setting(unit, 'Unit', 'Before').split(/\s+/);
    for (const runtime of ['containerd.service', 'docker.service', 'kubelet.service']) t.ok(before.includes(runtime), `Before=${runtime}`);
    t.notOk(unit.get('Unit')!.has('After'), 'ordered after no runtime');
    // no option that would give the daemon a mount namespace of its own
    for (const key of [
      'PrivateTmp',
      'ProtectSystem',
      'ProtectHome',
      'PrivateMounts',
      'PrivateDevices',
      'ReadOnlyPaths',
      'TemporaryFileSystem',
    ])
      t.notOk(unit.get('Service')!.has(key), `no ${key}=`);
  },
);

t.test('Exec lines split as systemd splits them', async (t) => {
  t.same(execArgv('/bin/kill -HUP $MAINPID', { MAINPID: '4242' }), ['/bin/kill', '-HUP', '4242']);
  t.same(execArgv('/bin/kill -HUP ${MAINPID}', { MAINPID: '4242' }), ['/bin/kill', '-HUP', '4242']);
  t.same(execArgv(`/bin/sh -c 'until cat /x >/dev/null 2>&1; do sleep 0.2; done'`, {}), [
    '/bin/sh',
    '-c',
    'until cat /x >/dev/null 2>&1; do sleep 0.2; done',
  ]);
  t.same(execArgv('/bin/echo "a \\"b\\"" $$HOME x\\ y', {}), ['/bin/echo', 'a "b"', '$HOME', 'x y']);
  t.throws(() => execArgv('/bin/kill $MAINPID', {}), /\$MAINPID is not set/);
  t.throws(() => execArgv('-/bin/true', {}), /prefix not handled/);
  const unit = parseUnit(UNIT);
  const post = execArgv(setting(unit, 'Service', 'ExecStartPost'), {});
  t.same(post.slice(0, 4), ['/usr/bin/timeout', '60', '/bin/sh', '-c'], 'ExecStartPost: a bounded wait');
  t.match(post[4], /cat \/var\/lib\/tsproc\/proc\/uptime/, 'until a read of the mount works');
});
