// How other commands see a container: exited, running or dead, from files written here (no monitor).
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { OwnerProbe } from '../../runner/container-owner.js';
import { describeStatus, findContainer, inspectContainer, listContainers } from '../../runner/containers.js';
import { settleContainers, settleDead } from '../../runner/teardown.js';
import { paths, type Roots } from '../../runner/roots.js';
import { releaseName } from '../../runner/state.js';

const ID = 'a'.repeat(64);

/** Owners as the test says: the monitor's answer, and nobody else (the record names no creator). */
const monitor = (alive: () => boolean): OwnerProbe => ({ creator: () => false, helper: () => false, monitor: alive });

/** A container as a running monitor leaves it: record, name, state directory with monitor.pid. */
function running(t: { teardown(fn: () => void): void }, autoRemove = false): Roots {
  const dir = mkdtempSync('/tmp/tsproc-test-containers-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const roots = { stateRoot: `${dir}/state`, dataRoot: `${dir}/data` };
  mkdirSync(paths.record(roots, ID), { recursive: true });
  mkdirSync(paths.container(roots, ID), { recursive: true });
  mkdirSync(paths.names(roots));
  const record = {
    id: ID,
    name: 'web',
    created: new Date().toISOString(),
    plan: { autoRemove },
    cgroup: { version: 2, hierarchies: [{ dir: `${dir}/no-cgroup` }] },
    detached: true,
  };
  writeFileSync(`${paths.record(roots, ID)}/container.json`, JSON.stringify(record));
  writeFileSync(`${paths.record(roots, ID)}/container.pid`, '4242\n');
  writeFileSync(`${paths.container(roots, ID)}/monitor.pid`, '4241\n');
  return roots;
}

/** What a monitor does as it ends: record the exit, remove the state (and with --rm the record). */
function monitorFinishes(roots: Roots, autoRemove: boolean): void {
  writeFileSync(`${paths.record(roots, ID)}/exit`, 'code 3 0\n');
  rmSync(paths.container(roots, ID), { recursive: true, force: true });
  if (autoRemove) rmSync(paths.record(roots, ID), { recursive: true, force: true });
}

t.test('a live monitor: running; one that ended without recording an exit: dead, settled as lost', async (t) => {
  const roots = running(t);
  t.match(
    inspectContainer(
      roots,
      ID,
      monitor(() => true),
    ),
    { status: 'running', pid: 4242 },
  );
  const dead = inspectContainer(
    roots,
    ID,
    monitor(() => false),
  )!;
  t.equal(dead.status, 'dead');
  const settled = settleDead(roots, dead);
  t.match(settled, { status: 'exited', exit: { code: 137, monitorLost: true, note: 'monitor lost' } });
  t.match(describeStatus(settled), /^Exited \(137\) .* ago \(monitor lost\)$/);
  t.notOk(existsSync(paths.container(roots, ID)), 'its state went');
});

t.test('a monitor that finishes while we look is not taken for dead', async (t) => {
  const roots = running(t);
  // the monitor records the exit and ends between our look for the exit and our look for it
  const info = inspectContainer(
    roots,
    ID,
    monitor(() => (monitorFinishes(roots, false), false)),
  )!;
  t.match(info, { status: 'exited', exit: { code: 3, monitorLost: false } });
  t.equal(settleDead(roots, info), info, 'nothing to settle');
  t.equal(readFileSync(`${paths.record(roots, ID)}/exit`, 'utf8'), 'code 3 0\n', "its exit stays the command's");
});

t.test('--rm: a monitor that removes the record while we look leaves no container behind', async (t) => {
  const roots = running(t, true);
  t.equal(
    inspectContainer(
      roots,
      ID,
      monitor(() => (monitorFinishes(roots, true), false)),
    ),
    undefined,
  );
  t.same(listContainers(roots), []);
});

t.test('settling never writes over an exit the monitor recorded after all, nor into a removed record', async (t) => {
  const roots = running(t);
  const dead = inspectContainer(
    roots,
    ID,
    monitor(() => false),
  )!;
  writeFileSync(`${paths.record(roots, ID)}/exit`, 'code 0 0\n');
  t.match(settleDead(roots, dead), { status: 'exited', exit: { code: 0, monitorLost: false } });
  const gone = running(t);
  const dead2 = inspectContainer(
    gone,
    ID,
    monitor(() => false),
  )!;
  rmSync(paths.record(gone, ID), { recursive: true });
  t.doesNotThrow(() => settleDead(gone, dead2));
  t.throws(() => findContainer(gone, ID), { message: `no such container: ${ID}` });
});

t.test('listing and finding change nothing: a dead container stays as it is until one explicit call settles it', async (t) => {
  // monitor.pid names pid 4241, which is not this container's monitor: for the host's probe, it is dead
  const roots = running(t);
  const state = paths.container(roots, ID);
  const exit = `${paths.record(roots, ID)}/exit`;
  for (let i = 0; i < 2; i++) {
    t.match(listContainers(roots), [{ status: 'dead' }], 'listed dead');
    t.match(findContainer(roots, ID.slice(0, 12)), { status: 'dead' }, 'found dead');
  }
  t.ok(existsSync(state), 'its state directory stays');
  t.notOk(existsSync(exit), 'no exit written');
  t.match(settleContainers(roots), [{ status: 'exited', exit: { code: 137, note: 'monitor lost' } }], 'settled');
  t.notOk(existsSync(state), 'settled: its state directory went');
  t.equal(readFileSync(exit, 'utf8'), 'signal 9 0\nlost\n', 'settled: its exit says how it ended');
  const again = settleDead(roots, findContainer(roots, ID));
  t.match(again, { status: 'exited' }, 'an exited container is left as it is');
});

t.test('releasing a name: only while it still names this container', async (t) => {
  const roots = running(t);
  symlinkSync(ID, paths.name(roots, 'web'));
  releaseName(roots, 'web', 'b'.repeat(64));
  t.equal(readlinkSync(paths.name(roots, 'web')), ID, "another container's name stays");
  releaseName(roots, 'web', ID);
  t.notOk(existsSync(paths.name(roots, 'web')), 'its own goes');
  t.doesNotThrow(() => releaseName(roots, 'web', ID), 'a name already gone is no error');
});
