// Flags → plan, without root: defaults, docker's rules, and a clear message for each bad value.
import t from 'tap';
import { checkStorageDriver } from '../../runner/flag-values.js';
import type { StorageDriver } from '../../runner/image/storage-driver.js';
import { buildPlan, type Probe, type RunFlags } from '../../runner/plan-from-flags.js';

const ID = 'ab'.repeat(32);
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n';
const GROUP = 'root:x:0:\nwww:x:33:\nalice:x:1000:\nwheel:x:10:alice\naudio:x:29:alice,www\n';

function probe(files: Record<string, string> = {}): Probe {
  const all: Record<string, string> = { '/r/etc/passwd': PASSWD, '/r/etc/group': GROUP, ...files };
  return {
    kind: (p) => (p === '/r' || p === '/data' ? 'dir' : all[p] !== undefined ? 'file' : 'missing'),
    readFile: (p) => all[p],
    env: { FROM_HOST: 'yes' },
    hostHostname: 'host1',
    onlineCpus: [0, 1],
  };
}

const plan = (f: RunFlags, args = ['sh'], p = probe()) => buildPlan({ rootfs: '/r', ...f }, args, { id: ID, name: 'calm_knuth' }, p);

t.test("defaults are docker's", async (t) => {
  const p = plan({});
  t.same(p.root, { kind: 'dir', path: '/r' });
  t.equal(p.name, 'calm_knuth');
  t.equal(p.hostname, ID.slice(0, 12), 'the short id');
  t.equal(p.net, 'none');
  t.same(p.process.user, { uid: 0, gid: 0, groups: [0], home: '/root' });
  t.same(p.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root']);
  t.equal(p.process.cwd, '/');
  t.equal(p.capabilities.length, 14);
  t.equal(p.noNewPrivs, true);
  t.equal(p.cgroupParent, 'tsproc');
  t.same(p.limits, {});
  t.equal(p.lxcfsRoot, undefined);
  t.equal(p.autoRemove, false, 'kept until rm');
  t.equal(p.detach, false);
  t.equal(p.logMaxSize, 10 * 2 ** 20);
  t.match(plan({ rm: true, detach: true, logOpt: ['max-size=64k'] }), { autoRemove: true, detach: true, logMaxSize: 65536 });
  t.equal(plan({ net: 'host' }).hostname, 'host1', "--net host: the host's name");
});

t.test('environment: defaults, --env-file, -e in order; K alone comes from our environment', async (t) => {
  const p = plan(
    { env: ['A=1', 'FROM_HOST', 'UNSET_HERE', 'HOME=/h'], envFile: ['/envs'], tty: true },
    ['sh'],
    probe({ '/envs': '# comment\n\nB=2\nA=0\n' }),
  );
  t.same(p.process.env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `HOSTNAME=${ID.slice(0, 12)}`,
    'HOME=/h',
    'TERM=xterm',
    'B=2',
    'A=1',
    'FROM_HOST=yes',
  ]);
});

t.test("users from the root's passwd and group", async (t) => {
  // docker's groups: the primary one, then (NAME or UID only) those listing the user
  t.same(plan({ user: 'alice' }).process.user, { uid: 1000, gid: 1000, groups: [1000, 10, 29], home: '/home/alice' });
  t.same(plan({ user: '33' }).process.user, { uid: 33, gid: 33, groups: [33, 29], home: '/var/www' });
  t.same(plan({ user: '4242' }).process.user, { uid: 4242, gid: 0, groups: [0], home: '/' }, 'an unknown uid: gid 0, home /');
  t.same(
    plan({ user: 'alice:www' }).process.user,
    { uid: 1000, gid: 33, groups: [33], home: '/home/alice' },
    'NAME:GROUP: that group only',
  );
  t.same(plan({ user: 'alice:10' }).process.user.groups, [10], 'NAME:GID: that group only');
  t.same(plan({ user: '5:6' }).process.user, { uid: 5, gid: 6, groups: [6], home: '/' });
  t.same(
    plan({}, ['sh'], probe({ '/r/etc/group': 'root:x:0:\nbin:x:1:root,bin\n' })).process.user.groups,
    [0, 1],
    'the default root: its groups too (docker run alpine id)',
  );
  t.same(
    plan({}, ['sh'], probe({ '/r/etc/passwd': undefined as unknown as string })).process.user.uid,
    0,
    'a root without passwd runs as root',
  );
});

t.test("limits: sizes, docker's swap default, CPUs, cpuset, pids", async (t) => {
  t.same(plan({ memory: '256m' }).limits, { memory: 256 * 2 ** 20, memorySwap: 512 * 2 ** 20 });
  t.same(plan({ memory: '1g', memorySwap: '-1' }).limits, { memory: 2 ** 30, memorySwap: 'max' });
  // docker's 0: not set, so the default
  t.same(
    plan({ memory: '256m', memorySwap: '0' }).limits,
    { memory: 256 * 2 ** 20, memorySwap: 512 * 2 ** 20 },
    '--memory-swap 0: as if not given',
  );
  t.same(plan({ memorySwap: '0' }).limits, {}, '--memory-swap 0 alone: nothing, no error');
  t.same(plan({ memory: '100000000', memorySwap: '100000000' }).limits, { memory: 1e8, memorySwap: 1e8 });
  t.same(plan({ cpus: '1.5', cpusetCpus: '0-1', pidsLimit: '64' }).limits, { cpus: 1.5, cpusetCpus: '0-1', pidsLimit: 64 });
  t.same(plan({ pidsLimit: '-1' }).limits, { pidsLimit: 'max' });
});

t.test('volumes, hosts, lxcfs, names', async (t) => {
  const p = plan({
    volume: ['/data:/mnt/data:ro', '/r/etc/passwd:/etc/passwd'],
    addHost: ['db:10.0.0.2', 'v6:[::1]'],
    lxcfs: true,
    name: 'web.1',
  });
  t.same(p.volumes, [
    { source: '/data', target: '/mnt/data', readonly: true, type: 'dir' },
    { source: '/r/etc/passwd', target: '/etc/passwd', readonly: false, type: 'file' },
  ]);
  t.same(p.hosts, [
    { name: 'db', ip: '10.0.0.2' },
    { name: 'v6', ip: '::1' },
  ]);
  t.equal(p.lxcfsRoot, '/var/lib/tsproc');
  t.equal(plan({ lxcfsRoot: '/mnt/lxcfs' }).lxcfsRoot, '/mnt/lxcfs', '--lxcfs-root implies --lxcfs');
  t.equal(p.name, 'web.1');
});

t.test('--privileged: every capability, no no_new_privs', async (t) => {
  const p = plan({ privileged: true });
  t.equal(p.privileged, true);
  t.equal(p.capabilities.length, 41);
  t.equal(p.noNewPrivs, false);
});

t.test('bad input: one clear message each, exit status 125', async (t) => {
  const bad: [RunFlags, RegExp, string[]?][] = [
    [{ rootfs: undefined }, /^--rootfs DIR is required/],
    [{ rootfs: '/nowhere' }, /^--rootfs \/nowhere: no such directory/],
    [{ rootfs: '/r/etc/passwd' }, /^--rootfs \/r\/etc\/passwd: not a directory/],
    [{}, /^no command given/, []],
    [{ memory: 'lots' }, /^--memory: wants a size in bytes.*not "lots"/],
    [{ memory: '1m' }, /^--memory: wants at least 6m/],
    [{ memorySwap: '1g' }, /^--memory-swap needs --memory/],
    [{ memory: '1g', memorySwap: '512m' }, /^--memory-swap: wants at least --memory/],
    [{ cpus: 'two' }, /^--cpus: wants a number of CPUs/],
    [{ cpus: '3' }, /^--cpus: wants a number of CPUs from 0.01 to 2/],
    [{ cpus: '0' }, /^--cpus: wants a number of CPUs from 0.01/],
    [{ cpusetCpus: '0-7' }, /^--cpuset-cpus: names CPU 2, which is not online/],
    [{ cpusetCpus: 'one' }, /^--cpuset-cpus: wants a CPU list/],
    [{ cpusetCpus: '1-0' }, /^--cpuset-cpus: wants ranges from low to high/],
    [{ pidsLimit: 'many' }, /^--pids-limit: wants a whole number/],
    [{ net: 'bridge' }, /^--net: wants none or host, not "bridge"/],
    [{ name: '-x' }, /^--name: wants a name of letters/],
    [{ hostname: 'a_b' }, /^--hostname: wants a host name/],
    [{ env: ['=x'] }, /^-e: wants KEY=VALUE/],
    [{ envFile: ['/nope'] }, /^--env-file \/nope: cannot read it/],
    [{ workdir: 'rel' }, /^-w: wants an absolute path/],
    [{ user: 'bob' }, /^-u: names a user the root's \/etc\/passwd does not have \(bob\)/],
    [{ user: 'alice:staff' }, /^-u: names a group .* \(staff\)/],
    [{ user: ':1' }, /^-u: wants NAME, UID/],
    [{ volume: ['data:/x'] }, /^-v: wants an absolute host path/],
    [{ volume: ['/data'] }, /^-v: wants SRC:DST/],
    [{ volume: ['/data:x'] }, /^-v: wants an absolute path in the container/],
    [{ volume: ['/data:/x:rx'] }, /^-v: wants ro or rw/],
    [{ volume: ['/gone:/x'] }, /^-v: wants an existing SRC \(\/gone does not exist\)/],
    [{ addHost: ['db'] }, /^--add-host: wants NAME:IP/],
    [{ addHost: ['db:300.1.1.1'] }, /^--add-host: wants NAME:IP, and "300.1.1.1" is not an IP address/],
    [{ capAdd: ['FLY'] }, /^--cap-add: unknown capability "FLY"/],
    [{ capDrop: ['WALK'] }, /^--cap-drop: unknown capability "WALK"/],
    [{ cgroupParent: '../x' }, /^--cgroup-parent: wants a cgroup path/],
    [{ logOpt: ['max-file=3'] }, /^--log-opt: wants max-size=SIZE/],
    [{ logOpt: ['max-size=10'] }, /^--log-opt: wants a max-size of at least 1k/],
  ];
  for (const [flags, message, args] of bad) {
    t.throws(() => plan(flags, args), { message, exitCode: 125 }, JSON.stringify(flags));
  }
});

// An image of two layers: /top (hides the base's /etc/group with a whiteout) over /base (passwd, group).
const IMAGE = {
  id: `sha256:${'c'.repeat(64)}` as const,
  ref: 'bb:1',
  config: { entrypoint: ['/bin/ep'], cmd: ['--serve'], env: ['PATH=/opt/bin', 'A=image'], workingDir: '/srv', user: 'www' },
  layers: ['/top', '/base'],
  containerDir: '/d/containers/x',
  driver: 'overlay' as const,
};
function imageProbe(): Probe {
  const files: Record<string, string> = { '/base/etc/passwd': PASSWD, '/base/etc/group': GROUP };
  return {
    ...probe(),
    kind: (p) => (p === '/top/etc/group' ? 'other' : files[p] !== undefined ? 'file' : 'missing'),
    readFile: (p) => files[p],
  };
}
const fromImage = (f: RunFlags, args: string[] = [], config: Partial<typeof IMAGE.config> = {}, driver: StorageDriver = 'overlay') =>
  buildPlan(f, args, { id: ID, name: 'calm_knuth' }, imageProbe(), { ...IMAGE, config: { ...IMAGE.config, ...config }, driver });

t.test('an image: its overlay root in the container directory, its config applied', async (t) => {
  const p = fromImage({});
  t.same(p.root, {
    kind: 'overlay',
    target: '/d/containers/x/rootfs',
    lowerdirs: ['/d/containers/x/init', '/top', '/base'],
    upperdir: '/d/containers/x/upper',
    workdir: '/d/containers/x/work',
  });
  t.same(p.image, { id: IMAGE.id, ref: 'bb:1', driver: 'overlay' });
  t.same(p.process.args, ['/bin/ep', '--serve'], 'Entrypoint then Cmd');
  t.same(
    p.process.env,
    ['PATH=/opt/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/var/www', 'A=image'],
    "the image's Env over docker's defaults",
  );
  t.equal(p.process.cwd, '/srv');
  t.same(
    p.process.user,
    { uid: 33, gid: 33, groups: [33], home: '/var/www' },
    "the image's User, from its layers' passwd (their group file is whited out: its primary group alone)",
  );
  t.same(
    fromImage({ readOnly: true }).root,
    { kind: 'overlay', target: '/d/containers/x/rootfs', lowerdirs: ['/d/containers/x/init', '/top', '/base'] },
    '--read-only: no upper',
  );
});

t.test('an image with the vfs driver (chosen while planning): the plan names the copy it will run in, final', async (t) => {
  const p = fromImage({}, [], {}, 'vfs');
  t.same(p.root, { kind: 'dir', path: '/d/containers/x/rootfs' }, 'the copy, made in the container directory by the executor');
  t.same(p.image, { id: IMAGE.id, ref: 'bb:1', driver: 'vfs' });
  t.same(
    p.process.user,
    { uid: 33, gid: 33, groups: [33], home: '/var/www' },
    "the image's User, read through its layers: the copy is not made yet",
  );
  t.same(fromImage({ readOnly: true }, [], {}, 'vfs').root, p.root, '--read-only: the same copy (mounted read-only)');
});

t.test("an image: each override, by docker's rules", async (t) => {
  t.same(fromImage({}, ['ls', '-l']).process.args, ['/bin/ep', 'ls', '-l'], 'CMD replaces Cmd, the Entrypoint stays');
  t.same(fromImage({ entrypoint: '/bin/sh' }).process.args, ['/bin/sh'], '--entrypoint replaces the Entrypoint and drops the Cmd');
  t.same(fromImage({ entrypoint: '/bin/sh' }, ['-c', 'x']).process.args, ['/bin/sh', '-c', 'x']);
  t.same(fromImage({ entrypoint: '' }, ['ls']).process.args, ['ls'], '--entrypoint "" clears it');
  t.same(fromImage({ env: ['A=flag', 'B=2'] }).process.env.slice(3), ['A=flag', 'B=2'], '-e overrides by key');
  t.equal(fromImage({ workdir: '/tmp' }).process.cwd, '/tmp');
  t.same(fromImage({ user: 'alice' }).process.user, { uid: 1000, gid: 1000, groups: [1000], home: '/home/alice' });
  t.same(
    fromImage({}, [], { user: '', workingDir: '' }).process,
    {
      ...fromImage({}).process,
      cwd: '/',
      user: { uid: 0, gid: 0, groups: [0], home: '/root' },
      env: ['PATH=/opt/bin', `HOSTNAME=${ID.slice(0, 12)}`, 'HOME=/root', 'A=image'],
    },
    'none given: root, in /',
  );
  t.throws(
    () => fromImage({ user: 'alice:wheel' }),
    /names a group the root's \/etc\/group does not have \(wheel\)/,
    "the top layer's whiteout hides the base's group file",
  );
  t.same(fromImage({ user: 'alice:10' }).process.user.gid, 10, 'by number it needs none');
});

t.test('an image: bad input, exit status 125', async (t) => {
  const bad: [RunFlags, RegExp, Partial<typeof IMAGE.config>?][] = [
    [{ workdir: 'rel' }, /^-w: wants an absolute path/],
    [{}, /^the image's WorkingDir: wants an absolute path in the container, not "srv"/, { workingDir: 'srv' }],
    [{}, /^the image's User: names a user the root's \/etc\/passwd does not have \(bob\)/, { user: 'bob' }],
    [{}, /^no command: the image has no Entrypoint or Cmd, and none was given/, { entrypoint: [], cmd: [] }],
    [{ entrypoint: '' }, /^no command: the image has no Entrypoint or Cmd/],
  ];
  for (const [flags, message, config] of bad)
    t.throws(() => fromImage(flags, [], config), { message, exitCode: 125 }, JSON.stringify([flags, config]));
  t.throws(() => plan({ storageDriver: 'vfs' }), { message: /^--storage-driver is for images/, exitCode: 125 });
  // an image's is read where the driver is chosen (runner/image-run.ts: findImage)
  t.throws(() => checkStorageDriver('--storage-driver', 'btrfs'), {
    message: /^--storage-driver: wants overlay or vfs, not "btrfs"/,
    exitCode: 125,
  });
  t.equal(checkStorageDriver('--storage-driver', undefined), undefined, 'not given: chosen by the runner');
});

t.test("--security-opt seccomp=: the default profile unless told, unconfined, or a file in docker's format", async (t) => {
  t.same(plan({}).seccomp, { mode: 'default' });
  t.same(plan({ securityOpt: ['seccomp=unconfined'] }).seccomp, { mode: 'unconfined' });
  t.same(plan({ securityOpt: ['seccomp:unconfined'] }).seccomp, { mode: 'unconfined' }, "docker's older colon");
  const file = plan(
    { securityOpt: ['seccomp=/p/x.json'] },
    ['sh'],
    probe({ '/p/x.json': '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}' }),
  ).seccomp;
  t.same(
    file,
    {
      mode: 'file',
      path: '/p/x.json',
      profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] },
    },
    'kept whole in the plan: exec gets the same',
  );
  t.same(
    plan({ securityOpt: ['seccomp=/p/empty.json'] }, ['sh'], probe({ '/p/empty.json': '{}' })).seccomp,
    { mode: 'unconfined' },
    'a profile naming nothing: none (docker)',
  );
  t.same(
    plan({ privileged: true }).seccomp,
    { mode: 'default' },
    '--privileged keeps the option; the executor applies none (containerFilter)',
  );
  const bad: [string[], RegExp][] = [
    [['apparmor=unconfined'], /^--security-opt: wants seccomp=unconfined or seccomp=PROFILE\.json .*, not "apparmor=unconfined"/],
    [['seccomp='], /^--security-opt: wants seccomp=unconfined/],
    [['seccomp=/p/missing.json'], /^--security-opt seccomp=\/p\/missing\.json: cannot read it$/],
    [['seccomp=/p/bad.json'], /^--security-opt seccomp=\/p\/bad\.json: defaultAction: unknown action "ALLOW"/],
  ];
  for (const [securityOpt, message] of bad)
    t.throws(
      () => plan({ securityOpt }, ['sh'], probe({ '/p/bad.json': '{"defaultAction":"ALLOW"}' })),
      { message, exitCode: 125 },
      securityOpt[0],
    );
});
