// Who owns a container that recorded no exit, at each point a killed `run` can leave it: its creator (the
// CLI, known by pid, start time and boot), the helper it started, its monitor; none of them: dead, settled
// with a status that says its set-up was cut short. Files written here, processes of the test's own.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { helperRunning, hostOwners, type OwnerProbe, ownership } from '../../runner/container-owner.js';
import { describeStatus, inspectContainer } from '../../runner/containers.js';
import { settleDead } from '../../runner/teardown.js';
import { paths, type Roots } from '../../runner/roots.js';
import type { ContainerRecord } from '../../runner/state.js';
import { isRunning, ownIdentity, type ProcessIdentity } from '../../src/process-identity.js';

const ID = 'b'.repeat(64);

/** A record as `run` writes it first: no state directory yet; `creator` is who runs it. */
function created(t: { teardown(fn: () => void): void }, creator: ProcessIdentity): { roots: Roots; record: ContainerRecord } {
  const dir = mkdtempSync('/tmp/tsproc-test-owner-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const roots = { stateRoot: `${dir}/state`, dataRoot: `${dir}/data` };
  mkdirSync(paths.record(roots, ID), { recursive: true });
  const record = {
    id: ID,
    name: 'web',
    created: new Date().toISOString(),
    plan: { autoRemove: false },
    cgroup: { version: 2, hierarchies: [{ dir: `${dir}/no-cgroup` }] },
    detached: true,
    creator,
  } as unknown as ContainerRecord;
  writeFileSync(`${paths.record(roots, ID)}/container.json`, JSON.stringify(record));
  return { roots, record };
}

/** The state directory as far as `run` got: with the helper's config (it may have started the helper), and the monitor's pid file. */
function state(roots: Roots, files: { config?: boolean; monitorPid?: number }): void {
  const dir = paths.container(roots, ID);
  mkdirSync(dir, { recursive: true });
  if (files.config) writeFileSync(`${dir}/helper.conf`, 'id x\n');
  if (files.monitorPid) writeFileSync(`${dir}/monitor.pid`, `${files.monitorPid}\n`);
}

const me = ownIdentity();
/** This process's pid with another start time: what a killed CLI whose pid was reused looks like. */
const gone: ProcessIdentity = { ...me, start: String(Number(me.start) + 1) };
const probe = (over: Partial<OwnerProbe>): OwnerProbe => ({ creator: () => false, monitor: () => false, helper: () => false, ...over });

t.test('a process is itself only: same pid, start time and boot', async (t) => {
  t.ok(isRunning(me));
  t.notOk(isRunning(gone), 'a reused pid');
  t.notOk(isRunning({ ...me, boot: '00000000-0000-0000-0000-000000000000' }), 'the same pid and start time in another boot');
  t.notOk(isRunning({ pid: 2 ** 22 + 1, start: '1' }), 'no such pid');
});

t.test('being created: owned while its creator runs, dead once it is gone, whatever the set-up got to', async (t) => {
  // killed before the state directory, and after it
  for (const files of [undefined, {}]) {
    const alive = created(t, me);
    if (files) state(alive.roots, files);
    t.same(ownership(alive.roots, alive.record), { owned: true }, 'its creator runs');
    t.match(inspectContainer(alive.roots, ID), { status: 'created' });
    const dead = created(t, gone);
    if (files) state(dead.roots, files);
    t.same(ownership(dead.roots, dead.record), { owned: false }, 'its creator was killed');
    t.match(inspectContainer(dead.roots, ID), { status: 'dead' });
  }
  const old = created(t, undefined as unknown as ProcessIdentity);
  t.same(ownership(old.roots, old.record), { owned: false }, 'a record naming no creator has none');
});

t.test('its creator gone after starting the helper: owned while the helper or its monitor runs', async (t) => {
  const { roots, record } = created(t, gone);
  let asked = 0;
  t.same(ownership(roots, record, probe({ helper: () => (asked++, true) })), { owned: false }, 'no config written: no helper was started');
  t.equal(asked, 0, 'so none is looked for');
  state(roots, { config: true });
  t.same(ownership(roots, record, probe({ helper: () => true })), { owned: true }, "the helper runs: not yet its monitor's pid file");
  t.same(ownership(roots, record, probe({ helper: () => false })), { owned: false }, 'it ended without a monitor');
  // the monitor writes its pid file while we look for the helper, and the helper has already exited
  const pidFile = `${paths.container(roots, ID)}/monitor.pid`;
  t.same(ownership(roots, record, probe({ helper: () => (writeFileSync(pidFile, '4242\n'), false), monitor: (pid) => pid === 4242 })), {
    owned: true,
    monitorPid: 4242,
  });
});

t.test('once the monitor has written its pid, the monitor decides, whatever its creator does', async (t) => {
  const { roots, record } = created(t, me);
  state(roots, { config: true, monitorPid: 4242 });
  t.same(
    ownership(roots, record, probe({ creator: () => true, monitor: () => false })),
    { owned: false, monitorPid: 4242 },
    'a foreground CLI waiting on a monitor that died',
  );
  t.same(
    ownership(roots, record, probe({ creator: () => false, monitor: () => true })),
    { owned: true, monitorPid: 4242 },
    'a detached run that returned',
  );
});

t.test('settled: its state goes, and its status says its set-up was cut short (it never started)', async (t) => {
  const { roots } = created(t, gone);
  state(roots, { config: true });
  const dead = inspectContainer(roots, ID, probe({}))!;
  t.equal(dead.status, 'dead');
  const settled = settleDead(roots, dead);
  t.match(settled, { status: 'exited', exit: { code: 125, monitorLost: false, note: 'set-up interrupted' } });
  t.match(describeStatus(settled), /^Exited \(125\) .* ago \(set-up interrupted\)$/);
  t.notOk(existsSync(paths.container(roots, ID)), 'its state directory went');
  t.equal(readFileSync(`${paths.record(roots, ID)}/exit`, 'utf8'), 'code 125 0\ninterrupted\n');
  t.match(inspectContainer(roots, ID, probe({ creator: () => true })), { status: 'exited' }, 'settled for good: an exit recorded is final');
});

t.test('helperRunning finds a process started as `tsproc-helper run CONFIG`, and only that', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-owner-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = `${dir}/state/containers/${ID}/helper.conf`;
  t.notOk(helperRunning(config));
  // a stand-in: node running a script named `run`, with argv[0] set to a path ending in tsproc-helper
  writeFileSync(`${dir}/run`, 'setTimeout(() => {}, 60000);\n');
  const child = spawn(process.execPath, ['run', config], { cwd: dir, argv0: `${dir}/tsproc-helper`, stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise((r) => child.on('spawn', r));
  t.ok(helperRunning(config), 'its own config');
  t.notOk(helperRunning(`${config}x`), "another container's");
  t.ok(hostOwners.helper(config), 'the probe commands use');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  t.notOk(helperRunning(config), 'gone with it');
});
