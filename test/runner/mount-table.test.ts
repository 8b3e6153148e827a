// The container's filesystem as helper operations: roots, cgroup mounts per version, lxcfs, masks.
import t from 'tap';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { MS, type HelperOp } from '../../runner/helper-config.js';
import { mountTable, rootMounts } from '../../runner/mount-table.js';
import { buildPlan, type Probe } from '../../runner/plan-from-flags.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from '../helpers/security-profiles.js';
import { EXPECTED_FILES } from '../helpers/served-files.js';

const probe: Probe = {
  kind: (p) => (p.startsWith('/r') || p === '/data' ? 'dir' : 'missing'),
  readFile: () => undefined,
  env: {},
  hostHostname: 'h',
  onlineCpus: [0, 1],
};
const plan = (flags = {}) => buildPlan({ rootfs: '/r', ...flags }, ['true'], { id: 'ab'.repeat(32), name: 'n' }, probe);
const v2 = planCgroup({ kind: 'v2', v1: {}, unified: '/sys/fs/cgroup' }, 'tsproc', 'x');
const hybrid = planCgroup(
  {
    kind: 'hybrid',
    v1: { memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct' },
    unified: '/sys/fs/cgroup/unified',
  },
  'tsproc',
  'x',
);
const targets = (ops: HelperOp[]) => ops.flatMap((o) => (o.op === 'mount' ? [o.target] : []));

t.test('roots: a directory binds onto itself, an overlay is mounted at its target; nodev unless --privileged', async (t) => {
  t.same(rootMounts({ kind: 'dir', path: '/r' }, true), {
    rootfs: '/r',
    prepare: [{ source: '/r', target: '/r', fstype: '', flags: MS.BIND | MS.REC | MS.NODEV, data: '' }],
  });
  t.equal(
    rootMounts({ kind: 'dir', path: '/r' }, false).prepare[0]!.flags,
    MS.BIND | MS.REC,
    '--privileged: device nodes in the root work',
  );
  t.same(rootMounts({ kind: 'overlay', target: '/c/rootfs', lowerdirs: ['/l1', '/l2'], upperdir: '/u', workdir: '/w' }, true), {
    rootfs: '/c/rootfs',
    prepare: [
      { source: 'overlay', target: '/c/rootfs', fstype: 'overlay', flags: MS.NODEV, data: 'lowerdir=/l1:/l2,upperdir=/u,workdir=/w' },
    ],
  });
  t.equal(
    rootMounts({ kind: 'overlay', target: '/c/rootfs', lowerdirs: ['/l1'] }, true).prepare[0]!.data,
    'lowerdir=/l1',
    'no upper: a read-only overlay',
  );
});

t.test('an image: /etc files in its init layer, not bound; its working directory made after the volumes', async (t) => {
  const image = {
    id: `sha256:${'c'.repeat(64)}` as const,
    ref: 'bb',
    config: { entrypoint: [], cmd: ['sh'], env: [], workingDir: '/app', user: '' },
    layers: ['/l1'],
    containerDir: '/d/containers/x',
    driver: 'overlay' as const,
  };
  const p = buildPlan({ volume: ['/data:/app/data'] }, [], { id: 'ab'.repeat(32), name: 'n' }, probe, image);
  const ops = mountTable(p, '/s', v2);
  t.same(
    targets(ops).filter((m) => m.startsWith('/etc')),
    [],
    'nothing bound over /etc',
  );
  const vol = ops.findIndex((o) => o.op === 'mount' && o.target === '/app/data');
  const wd = ops.findIndex((o) => o.op === 'mkdir' && o.path === '/app');
  t.ok(vol >= 0 && wd > vol, 'mkdir /app after the volume');
  t.ok(wd < ops.findIndex((o) => o.op === 'mask'));
  t.same(
    targets(mountTable(plan(), '/s', v2)).filter((m) => m.startsWith('/etc')),
    ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'],
    'a --rootfs root: bound from the state directory',
  );
  t.ok(
    mountTable(plan({ workdir: '/nowhere' }), '/s', v2).some((o) => o.op === 'mkdir' && o.path === '/nowhere'),
    'a --rootfs working directory is made too (-w, as docker)',
  );
});

t.test('the order: /proc, /dev, /sys, cgroups, /etc files, volumes; masks last', async (t) => {
  const ops = mountTable(plan({ volume: ['/data:/data:ro'] }), '/s', v2);
  const m = targets(ops);
  t.same(m.slice(0, 2), ['/proc', '/dev']);
  t.ok(m.indexOf('/sys') < m.indexOf('/sys/fs/cgroup'), 'sysfs before the cgroup on it');
  t.ok(m.indexOf('/etc/hosts') < m.indexOf('/data'));
  const vol = ops.find((o) => o.op === 'mount' && o.target === '/data');
  t.same(vol, { op: 'mount', source: '/data', target: '/data', fstype: '', flags: MS.BIND | MS.REC | MS.RDONLY, data: '' });
  const paths = (op: string) =>
    ops
      .filter((o) => o.op === op)
      .map((o) => (o as { path: string }).path)
      .sort();
  t.same(paths('mask'), [...DOCKER_MASKED_PATHS].sort(), "docker's eleven masked paths");
  t.same(paths('readonly'), [...DOCKER_READONLY_PATHS].sort(), "docker's read-only paths");
  t.ok(ops.indexOf(vol!) < ops.findIndex((o) => o.op === 'mask'), 'masks after volumes: a volume cannot unmask');
  const sys = ops.find((o) => o.op === 'mount' && o.target === '/sys') as Extract<HelperOp, { op: 'mount' }>;
  t.ok(sys.flags & MS.RDONLY, '/sys read-only');
  const dev = ops.find((o) => o.op === 'mount' && o.target === '/dev') as Extract<HelperOp, { op: 'mount' }>;
  t.ok(dev.flags & MS.NODEV, 'nodes made in /dev cannot be opened');
});

t.test("cgroups: v2 binds the container's cgroup; v1 a tmpfs of hierarchies, links for shared ones", async (t) => {
  const two = mountTable(plan(), '/s', v2).filter((o) => o.op === 'mount' && o.target.startsWith('/sys/fs/cgroup'));
  t.same(two, [
    {
      op: 'mount',
      source: '/sys/fs/cgroup/tsproc/x',
      target: '/sys/fs/cgroup',
      fstype: '',
      flags: MS.BIND | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY,
      data: '',
    },
  ]);
  const one = mountTable(plan(), '/s', hybrid);
  t.same(
    targets(one).filter((p) => p.startsWith('/sys/fs/cgroup')),
    ['/sys/fs/cgroup', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/unified'],
  );
  t.same(
    one.filter((o) => o.op === 'symlink' && o.path.startsWith('/sys')),
    [
      { op: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpu' },
      { op: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpuacct' },
    ],
  );
  t.same(
    one.find((o) => o.op === 'remount'),
    { op: 'remount', path: '/sys/fs/cgroup', flags: MS.RDONLY },
  );
});

t.test('--lxcfs binds the 8 files; --privileged masks nothing and leaves /sys writable', async (t) => {
  const ops = mountTable(plan({ lxcfsRoot: '/l' }), '/s', v2);
  t.same(
    ops.filter((o) => o.op === 'mount' && o.source.startsWith('/l/')).map((o) => (o as { target: string }).target),
    EXPECTED_FILES.map((f) => `/${f}`),
  );
  const priv = mountTable(plan({ privileged: true }), '/s', v2);
  t.equal(priv.filter((o) => o.op === 'mask' || o.op === 'readonly').length, 0);
  t.notOk((priv.find((o) => o.op === 'mount' && o.target === '/sys') as { flags: number }).flags & MS.RDONLY);
});

t.test('-w: made if missing, after the volumes', async (t) => {
  const ops = mountTable(plan({ volume: ['/data:/data'], workdir: '/data/work' }), '/s', v2);
  const mkdir = ops.findIndex((o) => o.op === 'mkdir' && o.path === '/data/work');
  t.ok(mkdir > ops.findIndex((o) => o.op === 'mount' && o.target === '/data'), 'in the volume, not under it');
  t.same(ops[mkdir], { op: 'mkdir', path: '/data/work', mode: 0o755 });
  t.notOk(
    mountTable(plan(), '/s', v2).some((o) => o.op === 'mkdir' && o.path === '/'),
    'the default / is not made',
  );
});
