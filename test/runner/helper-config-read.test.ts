// The C helper reads its whole config before it does anything: a malformed line is refused by number,
// and nothing before it runs (no monitor forked, no op done). Runs native/build/tsproc-helper directly.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { encodeHelperConfig, type HelperConfig, MS } from '../../runner/helper-config.js';
import { failureError } from '../../runner/helper-events.js';
import { HELPER } from '../../runner/helper-process.js';

/** The helper's exit code and its status channel's lines. */
function runHelper(config: string): Promise<{ code: number | null; events: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(HELPER, ['run', config], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stdio[3]!.on('data', (b: Buffer) => (text += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, events: text.split('\n').filter(Boolean) }));
  });
}

t.test(
  'a malformed line: "failed config EINVAL LINE", exit 1, no monitor, nothing before it done',
  { skip: existsSync(HELPER) ? false : `the helper ${HELPER} is not built` },
  async (t) => {
    const dir = mkdtempSync('/tmp/tsproc-test-config-');
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const root = join(dir, 'root');
    mkdirSync(root);
    const config: HelperConfig = {
      id: 'tsproc-test-config',
      rootfs: root,
      namespaces: ['mount'],
      loopback: false,
      readonlyRoot: false,
      noNewPrivs: true,
      user: { uid: 0, gid: 0, groups: [] },
      cwd: '/',
      env: [],
      args: ['true'],
      init: false,
      cgroupProcs: [],
      monitorPidFile: join(dir, 'monitor.pid'),
      prepare: [],
      ops: [
        { op: 'mkdir', path: '/made', mode: 0o755 },
        { op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', flags: MS.NOSUID, data: '' },
      ],
      cleanup: { umount: [], rmdir: [], remove: [join(dir, 'removed')] },
    };
    const good = encodeHelperConfig(config);
    const lines = good.text.split('\n');
    const mountLine = lines.findIndex((l) => l.startsWith('op mount ')) + 1;
    t.ok(mountLine > 0, 'the config has its mount line');
    // each: the line as the helper must refuse it
    const cases: [string, string][] = [
      ['an op with a field too few', 'op mount proc /proc proc 2'],
      ['an op with a field too many', 'op mask /proc/kcore /x'],
      ['an op kind the helper does not know', 'op chmod /proc 755'],
      ['a mode that is not octal', 'op mkdir /proc 9'],
      ['flags that are not hex', 'op mount proc /proc proc 0xe %'],
      ['a path in the root that is not absolute', 'op file etc/hosts'],
      ['a prepare-mount with bad flags', 'prepare-mount /r /r % zz %'],
      ['a cgroup-procs line with two paths', 'cgroup-procs /a /b'],
      ['a cleanup-name without the id', 'cleanup-name /data/names/web'],
      ['a uid past 32 bits', 'user 4294967296 0'],
      ['a negative log size', `log ${join(dir, 'log')} -1`],
      ['a tty mode that is neither', 'tty sideways'],
    ];
    for (const [what, line] of cases) {
      mkdirSync(join(dir, 'removed'), { recursive: true });
      const bad = [...lines];
      bad[mountLine - 1] = line;
      const file = join(dir, 'helper.conf');
      writeFileSync(file, bad.join('\n'));
      const r = await runHelper(file);
      t.same(r.events, [`failed config ${constants.errno.EINVAL} ${mountLine}`], `${what}: the line named`);
      t.equal(r.code, 1, `${what}: exit 1`);
      t.notOk(existsSync(join(dir, 'monitor.pid')), `${what}: no monitor started`);
      t.notOk(existsSync(join(root, 'made')), `${what}: the op before it not done`);
      t.ok(existsSync(join(dir, 'removed')), `${what}: no cleanup run`);
    }
    // the words the CLI prints for it
    const e = failureError(
      { kind: 'failed', step: 'config', errno: constants.errno.EINVAL, line: mountLine },
      { describe: good.describe, command: 'true', cwd: '/' },
    );
    t.equal(e.message, `the helper cannot read its config: line ${mountLine} (mount proc on /proc) is malformed`);
    t.equal(e.exitCode, 125);
  },
);

t.test(
  'the same config well formed gets past reading it (the control for the cases above)',
  { skip: existsSync(HELPER) ? false : `the helper ${HELPER} is not built` },
  async (t) => {
    // a config whose only flaw is found after reading: a root that is not there, reported as its step
    const dir = mkdtempSync('/tmp/tsproc-test-config-');
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'helper.conf');
    const text = encodeHelperConfig({
      id: 'tsproc-test-config',
      rootfs: join(dir, 'no-such-root'),
      namespaces: [],
      loopback: false,
      readonlyRoot: false,
      noNewPrivs: true,
      user: { uid: 0, gid: 0, groups: [] },
      cwd: '/',
      env: [],
      args: ['true'],
      init: false,
      cgroupProcs: [],
      monitorPidFile: join(dir, 'monitor.pid'),
      prepare: [],
      ops: [{ op: 'mask', path: '/proc/kcore' }],
      cleanup: { umount: [], rmdir: [], remove: [] },
    }).text;
    writeFileSync(file, text);
    const r = await runHelper(file);
    t.equal(r.code, 0, 'the helper forked its monitor and returned');
    t.match(r.events[0], /^monitor \d+$/, 'the monitor reported in');
    t.match(r.events, [/^monitor /, `failed open-root ${constants.errno.ENOENT} 0`], 'the root is missing: that step, not the config');
  },
);
