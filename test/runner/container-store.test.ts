// The containers as rmi and gc see them: from their records (no root needed), image ids, running or not;
// removal of an ended one counts the bytes that went and refuses a live one.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { containerStore } from '../../runner/container-store.js';
import { buildPlan, type Probe } from '../../runner/plan-from-flags.js';
import { ownIdentity, type ProcessIdentity } from '../../src/process-identity.js';

const probe: Probe = { kind: () => 'dir', readFile: () => undefined, env: {}, hostHostname: 'h', onlineCpus: [0] };
const IMAGE = `sha256:${'c'.repeat(64)}` as const;

/** A record as the executor writes it; `exited`: with an exit status; otherwise a state directory and `creator` (this process: being created). */
function record(
  dataRoot: string,
  stateRoot: string,
  id: string,
  name: string,
  opts: { image?: boolean; exited: boolean; creator?: ProcessIdentity },
): void {
  const image = opts.image
    ? {
        id: IMAGE,
        ref: 'bb',
        config: { entrypoint: [], cmd: ['sh'], env: [], workingDir: '', user: '' },
        layers: ['/l'],
        containerDir: join(dataRoot, 'containers', id),
        driver: 'overlay' as const,
      }
    : undefined;
  const plan = buildPlan(image ? {} : { rootfs: '/r' }, image ? [] : ['sh'], { id, name }, probe, image);
  const dir = join(dataRoot, 'containers', id);
  mkdirSync(dir, { recursive: true });
  const creator = opts.creator ?? ownIdentity();
  writeFileSync(
    join(dir, 'container.json'),
    JSON.stringify({
      id,
      name,
      created: new Date().toISOString(),
      plan,
      cgroup: planCgroup({ kind: 'v2', v1: {}, unified: '/nowhere' }, 'tsproc', id),
      detached: true,
      creator,
    }),
  );
  mkdirSync(join(dataRoot, 'names'), { recursive: true });
  symlinkSync(id, join(dataRoot, 'names', name));
  if (opts.exited) writeFileSync(join(dir, 'exit'), 'code 0 0\n');
  else mkdirSync(join(stateRoot, 'containers', id), { recursive: true });
}

t.test('list: id, name, image id, running; remove: an ended one with its layers, the bytes counted', async (t) => {
  const base = mkdtempSync('/tmp/tsproc-test-store-');
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const roots = { dataRoot: join(base, 'data'), stateRoot: join(base, 'state') };
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(64)) as [string, string, string, string];
  record(roots.dataRoot, roots.stateRoot, a, 'from-image', { image: true, exited: true });
  record(roots.dataRoot, roots.stateRoot, b, 'from-dir', { exited: true });
  record(roots.dataRoot, roots.stateRoot, c, 'starting', { image: true, exited: false });
  // its `run` was killed: the same pid, another start time
  record(roots.dataRoot, roots.stateRoot, d, 'killed', { image: true, exited: false, creator: { ...ownIdentity(), start: '1' } });
  mkdirSync(join(roots.dataRoot, 'containers', d, 'upper'));
  mkdirSync(join(roots.dataRoot, 'containers', a, 'upper/etc'), { recursive: true });
  writeFileSync(join(roots.dataRoot, 'containers', a, 'upper/etc/motd'), 'x'.repeat(1000));
  const store = containerStore(roots);
  const list = (await store.list()).sort((x, y) => x.id.localeCompare(y.id));
  t.same(
    list,
    [
      { id: a, name: 'from-image', image: IMAGE, running: false },
      { id: b, name: 'from-dir', image: undefined, running: false },
      { id: c, name: 'starting', image: IMAGE, running: true },
      { id: d, name: 'killed', image: IMAGE, running: false },
    ],
    'a container being created counts as running: gc leaves it and its image alone; one whose creator is gone does not',
  );
  const bytes = await store.remove(a);
  t.ok(bytes >= 1000, `its writable layer counted (${bytes} bytes)`);
  t.notOk(existsSync(join(roots.dataRoot, 'containers', a)), 'record and layers gone');
  t.notOk(existsSync(join(roots.dataRoot, 'names/from-image')), 'and its name');
  t.throws(() => store.remove(c), {
    message: `container starting (cccccccccccc) is being created by tsproc run (pid ${process.pid}): wait for it`,
    code: 'EBUSY',
  });
  t.ok(existsSync(join(roots.dataRoot, 'containers', c)), 'a live one stays');
  await store.remove(d); // one its killed run left
  t.same(
    [join(roots.dataRoot, 'containers', d), join(roots.stateRoot, 'containers', d), join(roots.dataRoot, 'names/killed')].filter((p) =>
      existsSync(p),
    ),
    [],
    'its record, layers, state and name went',
  );
  t.equal(await store.remove('f'.repeat(64)), 0, 'an unknown id: nothing');
});
