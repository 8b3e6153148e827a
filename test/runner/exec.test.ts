// exec's plan: the container's namespaces, cgroups, privileges and environment, with -u, -w and -e.
import t from 'tap';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import type { ContainerInfo } from '../../runner/containers.js';
import { signalNumber } from '../../runner/control.js';
import { execConfig } from '../../runner/exec.js';
import { buildPlan, type Probe } from '../../runner/plan-from-flags.js';

const probe: Probe = {
  kind: (p) => (p === '/r' ? 'dir' : 'missing'),
  readFile: (p) => (p === '/r/etc/passwd' ? 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' : undefined),
  env: { FROM_HOST: 'h' },
  hostHostname: 'host',
  onlineCpus: [0, 1],
};
const plan = buildPlan({ rootfs: '/r', env: ['A=1'], net: 'host' }, ['sleep', '9'], { id: 'ab'.repeat(32), name: 'n' }, probe);
const cgroup = planCgroup({ kind: 'v2', v1: {}, unified: '/sys/fs/cgroup' }, 'tsproc', plan.id);
const info: ContainerInfo = { record: { id: plan.id, name: 'n', created: '', plan, cgroup, detached: true }, status: 'running', pid: 4242 };

t.test('joins the container as it was made', async (t) => {
  const c = execConfig(info, {}, ['ps'], probe);
  t.equal(c.targetPid, 4242);
  t.same(c.namespaces, ['pid', 'mount', 'uts', 'ipc', 'cgroup'], '--net host: no network namespace to join');
  t.same(c.cgroupProcs, [`/sys/fs/cgroup/tsproc/${plan.id}/cgroup.procs`]);
  t.equal(c.caps, 0xa80425fbn);
  t.equal(c.noNewPrivs, true);
  t.same(c.user, { uid: 0, gid: 0, groups: [0], home: '/root' });
  t.match(c.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', /^HOSTNAME=/, 'HOME=/root', 'A=1']);
  t.same(c.ops, [], 'no mounts: they exist');
});

t.test('-u, -w, -e, -t -i', async (t) => {
  const c = execConfig(info, { user: 'alice', workdir: '/tmp', env: ['A=2', 'FROM_HOST'], tty: true, interactive: true }, ['sh'], probe);
  t.same(c.user, { uid: 1000, gid: 1000, groups: [1000], home: '/home/alice' });
  t.equal(c.cwd, '/tmp');
  t.ok(c.env.includes('A=2') && !c.env.includes('A=1') && c.env.includes('FROM_HOST=h') && c.env.includes('HOME=/home/alice'));
  t.ok(c.env.includes('TERM=xterm'), '-t: TERM=xterm, as docker exec -t');
  t.notOk(
    execConfig(info, {}, ['sh'], probe).env.some((e) => e.startsWith('TERM=')),
    'no TERM without -t',
  );
  t.ok(execConfig(info, { tty: true, env: ['TERM=vt100'] }, ['sh'], probe).env.includes('TERM=vt100'), '-e TERM=... wins');
  t.equal(c.tty, 'stdin');
  // without -t: pipes; -i relays our stdin into one
  const piped = execConfig(info, { interactive: true }, ['cat'], probe);
  t.same([piped.tty, piped.stdin], [undefined, true]);
  const none = execConfig(info, {}, ['cat'], probe);
  t.same([none.tty, none.stdin], [undefined, undefined]);
  t.throws(() => execConfig(info, { workdir: 'rel' }, ['sh'], probe), { message: /^-w: wants an absolute path/, exitCode: 125 });
  t.throws(() => execConfig(info, {}, [], probe), { message: /^no command given/, exitCode: 125 });
});

t.test('signals by name or number', async (t) => {
  t.equal(signalNumber('-s', 'KILL'), 9);
  t.equal(signalNumber('-s', 'sigterm'), 15);
  t.equal(signalNumber('-s', 'USR1'), 10);
  t.equal(signalNumber('-s', '2'), 2);
  t.throws(() => signalNumber('-s', 'NOPE'), { message: '-s: unknown signal "NOPE"' });
});
