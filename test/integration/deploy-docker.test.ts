// The daemon in a Docker container, as deploy/kubernetes/daemonset.yaml runs it: an image made with
// `docker import` of a root holding Node and this checkout (what deploy/docker/Dockerfile builds; no
// registry here), its ENTRYPOINT the Dockerfile's, the DaemonSet's args, privileges, host pid namespace
// and volumes (a tsproc-test directory for /var/lib, rshared), run by a dockerd of the test's own.
// It serves tsproc containers on the host, which read their own limits; an update as the DaemonSet makes
// it (a second such container takes over; the first stays until stopped, then exits 0 touching nothing)
// loses no read; after a crash the restarted container repairs the containers' binds; a stop of the
// serving one unmounts DIR on the host.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { forceUnmount, waitFor } from '../helpers/daemon.js';
import { daemonImageRoot } from '../helpers/daemon-image.js';
import { daemonSetContainer, dockerEntrypoint } from '../helpers/deploy-files.js';
import { CONTAINERD, DOCKER, DOCKERD, startDockerd, type Dockerd } from '../helpers/dockerd.js';
import { startReaders } from '../helpers/read-loop.js';
import { busyboxRoot, cannotRun, sandbox } from '../helpers/runner.js';
import { DEFAULT_MOUNT_DIR } from '../../src/served-files.js';

/** Limits for hangs, not speed. */
const STOP_LIMIT_S = 30; // the DaemonSet's terminationGracePeriodSeconds

const missing = [DOCKER, DOCKERD, CONTAINERD].filter((f) => !existsSync(f));
const skip = cannotRun() ?? (missing.length > 0 ? `docker.io is not installed (no ${missing.join(', ')})` : undefined);

if (skip) {
  t.plan(0, skip);
} else {
  const started = await startDockerd();
  if (!started.ok) t.plan(0, `dockerd cannot start here: ${started.why}`);
  // a failure while setting up is the test's, and the teardowns (dockerd's first) still run
  else await tests(started.dockerd).catch((err: Error) => t.fail(err.stack ?? err.message));
}

/**
 * `--privileged`, or where runc cannot give it here, what it amounts to for the daemon. It asks for
 * every capability, and a machine whose own bounding set lacks one (a sandbox without CAP_SYS_RESOURCE,
 * as this one may be) cannot grant them: then every other capability, no seccomp or AppArmor profile,
 * /proc unmasked, and /dev/fuse allowed by the devices cgroup (sysfs stays read-only, which the daemon
 * does not mind: it mounts fusectl over it if it must).
 */
function privileged(d: Dockerd, image: string, t: { comment(m: string): void }): string[] {
  const probe = d.docker(
    ['run', '--rm', '--network', 'none', '--privileged', '--entrypoint', '/usr/bin/test', image, '-e', '/dev/fuse'],
    120_000,
  );
  if (probe.status === 0) return ['--privileged'];
  if (!/unable to apply caps/.test(probe.stderr)) throw new Error(`docker run --privileged: ${probe.stderr}`);
  t.comment(
    `--privileged cannot be had here (${probe.stderr.trim()}): all capabilities but CAP_SYS_RESOURCE, unconfined, and --device /dev/fuse instead`,
  );
  return [
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '--device',
    '/dev/fuse',
  ];
}

/** The fuse.tsproc mounts at `dir` in the host's mount table. */
function tsprocMountsAt(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === dir && / - fuse\.tsproc /.test(l));
}

async function tests(d: Dockerd): Promise<void> {
  const names: string[] = [];
  t.teardown(async () => {
    for (const name of names) d.docker(['rm', '-f', name]);
    const left = await d.stop();
    if (left.length > 0) throw new Error(`dockerd left behind:\n${left.join('\n')}`);
  });
  const suffix = d.cgroupParent.replace(/^tsproc-test-docker-/, '');
  const image = `tsproc-test-daemon-${suffix}`;
  const docker = (args: string[]) => {
    const r = d.docker(args, 120_000);
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };

  // BASE stands for the node's /var/lib (the DaemonSet's volume: DIR's parent), and DIR for /var/lib/tsproc.
  // Docker propagates mounts both ways (rshared) only from a shared mount, which systemd makes / at
  // boot; here / is private, so BASE is made a shared mount of its own.
  const base = mkdtempSync('/tmp/tsproc-test-varlib-');
  const dir = `${base}/tsproc`;
  mkdirSync(dir);
  t.teardown(() => {
    forceUnmount(dir); // the daemon's mount, if still there
    forceUnmount(base);
    rmSync(base, { recursive: true, force: true });
  });
  for (const args of [
    ['--bind', base, base],
    ['--make-shared', base],
  ]) {
    const r = spawnSync('mount', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
  }
  const VAR_LIB = dirname(DEFAULT_MOUNT_DIR);
  const at = (path: string) => (path === VAR_LIB || path.startsWith(`${VAR_LIB}/`) ? `${base}${path.slice(VAR_LIB.length)}` : path);

  // The image: the Dockerfile's ENTRYPOINT on a root made here.
  const entrypoint = dockerEntrypoint().map(at);
  const root = daemonImageRoot(t);
  const made = spawnSync(
    'sh',
    ['-c', `tar -C "$0" -c . | ${DOCKER} import --change "$1" - "$2"`, root, `ENTRYPOINT ${JSON.stringify(entrypoint)}`, image],
    { encoding: 'utf8', env: d.env, timeout: 300_000 },
  );
  if (made.status !== 0) throw new Error(`docker import: ${made.stderr}`);

  // The DaemonSet's container as docker run flags.
  const c = daemonSetContainer();
  const runFlags = [
    ...(c.privileged ? privileged(d, image, t) : []),
    ...(c.hostPID ? ['--pid', 'host'] : []),
    // a privileged container under containerd's CRI shares the host's cgroup namespace; docker's must be told
    '--cgroupns',
    'host',
    '--network',
    'none',
    ...c.mounts.flatMap((m) => [
      '-v',
      `${at(m.hostPath)}:${at(m.mountPath)}${m.readOnly ? ':ro' : m.propagation === 'Bidirectional' ? ':rshared' : ''}`,
    ]),
  ];
  /** Start a daemon container as the DaemonSet would start a pod; resolves when its readiness probe passes. */
  const startPod = async (name: string) => {
    names.push(name);
    docker(['run', '-d', '--name', name, ...runFlags, image, ...c.args]);
    await waitFor(() => ready(name), `${name} ready (its readiness probe: ${c.readiness.join(' ')})`, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; its log:\n${logs(name)}`);
    });
  };
  const ready = (name: string) => d.docker(['exec', name, ...c.readiness], 30_000).status === 0;
  const logs = (name: string) => {
    const r = d.docker(['logs', name]);
    return `${r.stdout}${r.stderr}`;
  };
  const state = (name: string) =>
    JSON.parse(docker(['inspect', '--format', '{{json .State}}', name])) as { Running: boolean; ExitCode: number };
  const stopPod = (name: string) => docker(['stop', '-t', String(STOP_LIMIT_S), name]);

  const first = `${image}-a`;
  const second = `${image}-b`;
  await startPod(first);
  const s = sandbox(t);
  const readers = await startReaders(t, s, busyboxRoot(t), dir, [64, 300]);
  const context = () => `the daemons' logs:\n${names.map((n) => `${n}:\n${logs(n)}`).join('\n')}`;

  t.test('the containerized daemon serves the host: its containers read their own limits', async (t) => {
    t.match(logs(first), new RegExp(`serving ${dir} \\(connection \\d+`), 'it says it serves DIR');
    t.equal(tsprocMountsAt(dir).length, 1, "its mount reached the host's DIR");
    const w = readers.window(0);
    t.same(w.failed, [], `${w.reads} reads of the containers' own MemTotal (64 MiB and 300 MiB), none failed`);
    const host = readFileSync(`${dir}/proc/meminfo`, 'utf8').split('\n')[0];
    t.equal(host, readFileSync('/proc/meminfo', 'utf8').split('\n')[0], "a host reader gets the host's MemTotal");
  });

  t.test(
    'an update as the DaemonSet makes it: the new pod takes over, the old one stays, then stops touching nothing; no read fails',
    async (t) => {
      const since = Date.now();
      await startPod(second);
      await waitFor(
        () => /handed .* over: staying until SIGTERM \(--stay-after-handover\)/.test(logs(first)),
        'the old daemon hands over',
      ).catch((err: Error) => {
        throw new Error(`${err.message}; ${context()}`);
      });
      t.match(logs(second), /took .* over from tsproc pid \d+/, 'the new daemon took the connection over');
      t.ok(state(first).Running, 'the old pod runs on (an exit would have the kubelet restart it)');
      t.notOk(ready(first), 'the old pod is no longer ready');
      await readers.readingAgain(Date.now(), context);
      // the DaemonSet controller deletes the old pod: SIGTERM
      stopPod(first);
      const old = state(first);
      t.equal(old.Running, false);
      t.equal(old.ExitCode, 0, 'the old daemon exits 0');
      t.match(logs(first), /got SIGTERM: exiting/);
      t.notMatch(logs(first), /stopping|unmount/i, 'without unmounting anything');
      t.equal(tsprocMountsAt(dir).length, 1, 'DIR is still mounted on the host');
      await readers.readingAgain(Date.now(), context, 20);
      const w = readers.window(since);
      t.same(w.failed, [], `${w.reads} reads across the update, none failed`);
    },
  );

  // the kubelet restarts a crashed container as a new one, from the image: a fresh writable layer
  const restarted = `${image}-b2`;
  t.test(
    "a crash (the pod's daemon killed), then its container restarted as the kubelet would: the containers right again within 5 s, not restarted",
    async (t) => {
      const since = Date.now();
      docker(['kill', '--signal', 'KILL', second]);
      t.equal(state(second).ExitCode, 137, 'killed');
      await waitFor(
        () => readers.containers.every((c) => c.log.reads.some((r) => r.at >= since && !r.ok)),
        'the containers see the daemon gone',
        30_000,
      );
      await startPod(restarted);
      const serving = Date.now();
      t.match(logs(restarted), /holds a dead tsproc mount .*unmounting it/, 'the restarted daemon removed the dead mount');
      t.match(logs(restarted), /repaired \d+ bind mounts of the previous mount/, "and repaired the containers' binds");
      t.equal(tsprocMountsAt(dir).length, 1, "its new mount reached the host's DIR");
      await readers.readingAgain(serving, context);
      const recovered = readers.recovered(serving);
      t.ok(recovered <= 5000, `every container right again ${recovered} ms after the pod was ready`);
      const w = readers.window(since);
      t.comment(
        `crash: ${w.failed.length} failed reads of ${w.reads} until the restarted pod served; right again ${recovered} ms after it was ready`,
      );
      t.ok(readers.noneRestarted(), 'the containers were not restarted');
    },
  );

  t.test('the serving pod deleted: SIGTERM, exit 0, DIR unmounted on the host', async (t) => {
    stopPod(restarted);
    const st = state(restarted);
    t.equal(st.ExitCode, 0, 'exit 0');
    t.match(logs(restarted), /got SIGTERM: stopping/);
    t.same(tsprocMountsAt(dir), [], 'no tsproc mount at DIR on the host');
    t.ok(readers.noneRestarted(), 'the containers still run (they read again once a daemon serves)');
  });

  t.test("the host's containers end cleanly, leaving nothing (dockerd is stopped and checked at the end)", async (t) => {
    await readers.stop();
    t.same(s.leftovers(), []);
  });
}
