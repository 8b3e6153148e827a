// kill -9 of `tsproc run -d` anywhere in its set-up (issue 10, part 4): whatever a killed run left, `ps -a`
// lists with a status that says what happened, and `rm -f`, or `gc` alone, removes all of it: record, name,
// state, cgroups in every hierarchy, mounts, layers, processes. Each point of the set-up is hit on purpose
// (TSPROC_TEST_KILL_AT, runner/test-hooks.ts), and kills from outside land at moments spread over the set-up
// as this machine times it: Node's own start-up takes most of a run's time and varies, so the moments are
// counted from the set-up's first act (the record's scratch directory appearing), not from the spawn.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, watch } from 'node:fs';
import { join } from 'node:path';
import { TEST_POINTS } from '../../runner/test-hooks.js';
import { scratch } from '../helpers/images.js';
import { baseLayer, importImages } from '../helpers/run-images.js';
import { busyboxRoot, cannotRun, type Sandbox, sandbox, type Started, until } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

const IMAGE = 'tsproc-test/leftovers:1';
/** Kills from outside per kind of root and round, at moments spread evenly over the set-up. */
const PER_KIND = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ps {
  id: string;
  name: string;
  state: string;
  status: string;
  exitCode: number | null;
}

/**
 * `run --name NAME ARGS` started, and when its set-up began: its first act seen, the record's scratch
 * directory DATA/tmp/create-PID-* (or, for a runner that takes the name first, the name); undefined: it
 * ended before.
 */
function startRun(s: Sandbox, name: string, args: string[]): { run: Started; began: Promise<number | undefined> } {
  const dirs = [join(s.dataRoot, 'tmp'), join(s.dataRoot, 'names')];
  const seen: string[] = [];
  let check = () => {};
  const watchers = dirs.map((dir) => {
    mkdirSync(dir, { recursive: true });
    return watch(dir, (_event, file) => {
      if (file) seen.push(file);
      check();
    });
  });
  const run = s.start(['--name', name, ...args]);
  const began = new Promise<number | undefined>((resolve) => {
    check = () => seen.some((f) => f === name || f.startsWith(`create-${run.child.pid}-`)) && resolve(Date.now());
    check();
    void run.exited.then(() => resolve(undefined));
  }).finally(() => watchers.forEach((w) => w.close()));
  return { run, began };
}

/** `run --name NAME ARGS` killed with SIGKILL `ms` after its set-up began; a run that ended sooner is left alone. Resolves once the CLI is gone. */
async function killDuringSetUp(s: Sandbox, name: string, args: string[], ms: number): Promise<void> {
  const { run, began } = startRun(s, name, args);
  if ((await began) !== undefined) {
    await sleep(ms);
    run.child.kill('SIGKILL');
  }
  await run.exited;
}

/**
 * How long `run -d --name NAME ARGS` takes here from its set-up's first act until its monitor takes over
 * (writes its pid file): the span kills are spread over. One run of a command that stays (the pid file
 * with it), removed after.
 */
async function setUpTime(s: Sandbox, name: string, args: string[]): Promise<number> {
  const { run, began } = startRun(s, name, args);
  let handedOver = 0;
  const poll = setInterval(() => {
    try {
      const id = readlinkSync(join(s.dataRoot, 'names', name));
      if (!handedOver && existsSync(join(s.stateRoot, 'containers', id, 'monitor.pid'))) handedOver = Date.now();
    } catch {
      /* not yet named */
    }
  }, 2);
  const [start, r] = await Promise.all([began, run.done]);
  clearInterval(poll);
  if (r.status !== 0 || !start || !handedOver) throw new Error(`run: ${r.status} ${r.stderr}`);
  const rm = await s.cli(['rm', '-f', name]);
  if (rm.status !== 0) throw new Error(`rm: ${rm.stderr}`);
  return handedOver - start;
}

const psAll = async (s: Sandbox): Promise<Ps[]> => JSON.parse((await s.cli(['ps', '-a', '--json'])).stdout) as Ps[];

/** ps -a once no container shows as being created (their runs are dead; monitors that took over have started theirs). */
async function psSettled(s: Sandbox): Promise<Ps[]> {
  const end = Date.now() + 20000;
  for (;;) {
    const ps = await psAll(s);
    if (ps.every((c) => c.state !== 'created')) return ps;
    if (Date.now() > end)
      throw new Error(
        `gave up waiting: still shown as being created, with every run killed:\n${JSON.stringify(
          ps.filter((c) => c.state === 'created'),
          null,
          2,
        )}`,
      );
    await sleep(100);
  }
}

/** Processes of ours still running (helpers, monitors, containers): ended ones' leftovers are then final. */
const ours = (s: Sandbox) => s.leftovers().filter((l) => l.startsWith('process:'));

/** Everything a container can leave, none of it left: what leftovers() checks, plus records, names, scratch, container layers. */
function nothingLeft(t: Test, { s, layers }: World): void {
  t.same(s.leftovers(), [], 'no mount, cgroup, state directory or process');
  t.same(readdirSync(join(s.dataRoot, 'containers')), [], 'no record, and with it no container layer (init, upper, work, rootfs)');
  t.same(readdirSync(join(s.dataRoot, 'names')), [], 'no name');
  t.same(readdirSync(join(s.dataRoot, 'tmp')), [], 'no scratch directory');
  t.same(readdirSync(join(s.dataRoot, 'layers/sha256')).sort(), layers, "the store's layers are the image's, no more");
}

interface World {
  s: Sandbox;
  /** the three kinds of root: an image's overlay, an image's vfs copy, a directory */
  kinds: string[][];
  /** the store's layers as imported */
  layers: string[];
  /** each kind's set-up time here (setUpTime), measured once */
  spans: Map<number, Promise<number>>;
}

let shared: Promise<World> | undefined;
/** One sandbox for the file, the image imported once: each test leaves it as it found it (nothingLeft). */
const world = (): Promise<World> =>
  (shared ??= (async () => {
    const s = sandbox(t);
    await importImages(s, scratch(t, 'leftovers'), [{ ref: IMAGE, layers: [baseLayer(t)] }]);
    return {
      s,
      kinds: [[IMAGE], ['--storage-driver', 'vfs', IMAGE], ['--rootfs', busyboxRoot(t), '--']],
      layers: readdirSync(join(s.dataRoot, 'layers/sha256')).sort(),
      spans: new Map(),
    };
  })());

/**
 * Kills for one round: each set-up point once (an image's overlay root, so that every point exists), then
 * `perKind` runs of each kind of root killed at moments spread evenly over the set-up and a little past it.
 * Returns the names of those killed at a point, by point.
 */
async function killRuns(t: Test, { s, kinds, spans }: World, round: string, cmd: string[], perKind: number): Promise<Map<string, string>> {
  const byPoint = new Map(TEST_POINTS.map((point) => [point, `tsproc-test-${round}-${point}`]));
  const points = await Promise.all(
    [...byPoint].map(([point, name]) => s.start(['-d', '--name', name, IMAGE, ...cmd], { TSPROC_TEST_KILL_AT: point }).done),
  );
  t.same(
    points.map((r) => r.signal),
    TEST_POINTS.map(() => 'SIGKILL'),
    'each run killed itself at its point',
  );
  // one after another within a kind, the kinds side by side (the first round's calibration sees the same load as the kills)
  await Promise.all(
    kinds.map(async (kind, k) => {
      if (!spans.has(k)) spans.set(k, setUpTime(s, `tsproc-test-span-${k}`, ['-d', ...kind, 'sleep', '600']));
      const span = await spans.get(k)!;
      for (let i = 0; i < perKind; i++)
        await killDuringSetUp(s, `tsproc-test-${round}-${k}-${i}`, ['-d', ...kind, ...cmd], Math.round((span * 1.2 * i) / (perKind - 1)));
    }),
  );
  return byPoint;
}

/** ps -a lists every record, each name leads to one of them, and each status says what happened (the command: sleep 600). */
async function listedTruthfully(t: Test, s: Sandbox, byPoint: Map<string, string>): Promise<Ps[]> {
  const ps = await psSettled(s);
  t.same(ps.map((c) => c.id).sort(), s.records().sort(), 'ps -a lists every record a killed run left');
  for (const link of readdirSync(join(s.dataRoot, 'names')))
    t.ok(s.records().includes(readlinkSync(join(s.dataRoot, 'names', link))), `the name ${link} leads to a record`);
  for (const c of ps) {
    if (c.state === 'exited' && c.exitCode === 125)
      t.match(c.status, /^Exited \(125\) .* \(set-up interrupted\)$/, `${c.name}: never started, says so`);
    else t.match(c, { state: 'running' }, `${c.name}: its monitor took over: running`);
  }
  for (const [point, name] of byPoint) {
    const c = ps.find((x) => x.name === name);
    if (point === 'helper')
      t.match(c, { state: 'running' }, 'killed once the helper was started: the monitor takes over and the container runs');
    else
      t.match(c, { state: 'exited', exitCode: 125, status: /\(set-up interrupted\)$/ }, `killed at ${point}: listed, set-up interrupted`);
  }
  return ps;
}

t.test('rm -f removes whatever a killed run left, everything included; the names are free again', async (t) => {
  const w = await world();
  const { s } = w;
  const byPoint = await killRuns(t, w, 'rm', ['sleep', '600'], PER_KIND);
  const ps = await listedTruthfully(t, s, byPoint);
  const rm = await s.cli(['rm', '-f', ...ps.map((c) => c.id)]);
  t.equal(rm.status, 0, rm.stderr);
  t.equal(rm.stderr, '');
  await until('the monitors of the running ones have ended', () => ours(s).length === 0, 20000);
  nothingLeft(t, w);
  // the names taken before the cgroups, with some of them, and by a container that ran: free again
  const names = (['name', 'cgroup', 'helper'] as const).map((point) => byPoint.get(point)!);
  for (const [name, again] of await Promise.all(
    names.map(async (name) => [name, await s.run(['--rm', '--name', name, IMAGE, 'true'])] as const),
  )) {
    t.equal(again.status, 0, `the name ${name} is free: ${again.stderr}`);
  }
});

t.test('gc alone removes whatever a killed run left, everything included', async (t) => {
  const w = await world();
  const { s } = w;
  // `true`: a container its monitor took over ends by itself, so that gc may take it too
  await killRuns(t, w, 'gc', ['true'], PER_KIND);
  await until('every helper, monitor and container has ended', () => ours(s).length === 0, 20000);
  const records = s.records().length;
  const gc = await s.cli(['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.equal(gc.stderr, '');
  t.equal((gc.stdout.match(/^Deleted container: /gm) ?? []).length, records, `gc: every record (${records}) deleted`);
  nothingLeft(t, w);
  t.same(await psAll(s), [], 'ps -a: nothing');
});

t.test('a container being created is left alone: ps shows it Created, rm refuses it, gc skips it; rm -f waits for its run', async (t) => {
  const w = await world();
  const { s } = w;
  // a run held in its set-up (SIGSTOP by itself once its name is taken), as a slow set-up would be
  const run = s.start(['-d', '--name', 'tsproc-test-slow', IMAGE, 'sleep', '600'], { TSPROC_TEST_STOP_AT: 'name' });
  t.teardown(() => run.child.kill('SIGKILL'));
  await until('it has stopped itself', () => /^[^(]*\([^)]*\) T/.test(readFileSync(`/proc/${run.child.pid}/stat`, 'utf8')), 20000);
  const [id] = s.records();
  t.match(await psAll(s), [{ id, name: 'tsproc-test-slow', state: 'created', status: 'Created' }]);
  const rm = await s.cli(['rm', 'tsproc-test-slow']);
  t.equal(rm.status, 1);
  t.equal(
    rm.stderr,
    `tsproc: container tsproc-test-slow (${id!.slice(0, 12)}) is being created by tsproc run (pid ${run.child.pid}): wait for it, or use rm -f\n`,
  );
  const gc = await s.cli(['gc']);
  t.equal(gc.status, 0, gc.stderr);
  t.notMatch(gc.stdout, /Deleted container/, 'gc: skipped');
  t.same(s.records(), [id], 'its record stays');
  const forced = s.startCli(['rm', '-f', 'tsproc-test-slow']);
  await sleep(500);
  t.same(s.records(), [id], 'rm -f waits while its run owns it');
  run.child.kill('SIGCONT');
  const r = await forced.done;
  t.equal(r.status, 0, r.stderr);
  t.equal((await run.done).status, 0, 'its run went on and returned');
  t.same(s.records(), [], 'then rm -f killed it and removed it');
  await until('its monitor has cleaned up', () => s.leftovers().length === 0, 20000);
  t.same(readdirSync(join(s.dataRoot, 'names')), []);
});
