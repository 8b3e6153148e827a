// The devices a container may use: docker's list, as v1 devices.allow lines and as the helper's
// cgroup2 filter lines; --privileged has none (every device).
import t from 'tap';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { DEFAULT_DEVICES, deviceRuleText, v1DeviceWrites } from '../../runner/cgroup/device-rules.js';
import { helperConfig } from '../../runner/executor.js';
import { encodeHelperConfig } from '../../runner/helper-config.js';
import { buildPlan, type Probe } from '../../runner/plan-from-flags.js';

const probe: Probe = {
  kind: (p) => (p === '/r' ? 'dir' : 'missing'),
  readFile: () => undefined,
  env: {},
  hostHostname: 'h',
  onlineCpus: [0],
};
const plan = (flags = {}) => buildPlan({ rootfs: '/r', ...flags }, ['true'], { id: 'ab'.repeat(32), name: 'n' }, probe);
const roots = { stateRoot: '/s', dataRoot: '/d' };

t.test("v1: refuse all, then allow /dev's devices; not the host console, tun, or mknod of others", async (t) => {
  t.same(
    v1DeviceWrites(DEFAULT_DEVICES).map((w) => `${w.file}: ${w.value}`),
    [
      'devices.deny: a',
      'devices.allow: c 1:3 rwm',
      'devices.allow: c 1:5 rwm',
      'devices.allow: c 1:7 rwm',
      'devices.allow: c 1:8 rwm',
      'devices.allow: c 1:9 rwm',
      'devices.allow: c 5:0 rwm',
      'devices.allow: c 5:2 rwm',
      'devices.allow: c 136:* rwm',
    ],
  );
  t.equal(deviceRuleText({ type: 'b', access: 'm' }), 'b *:* m');
});

t.test("cgroup2 (v2, and hybrid's unified hierarchy): the rules and where the helper's filter goes", async (t) => {
  const v2 = planCgroup({ kind: 'v2', v1: {}, unified: '/sys/fs/cgroup' }, 'tsproc', 'x');
  const text = encodeHelperConfig(helperConfig(plan(), '/s/x', v2, roots)).text.split('\n');
  // /dev/null, zero, full, random, urandom, tty, ptmx and the pts: docker's list, as in the v1 test
  t.same(
    text.filter((l) => l.startsWith('device')),
    [
      'device c 1 3 rwm',
      'device c 1 5 rwm',
      'device c 1 7 rwm',
      'device c 1 8 rwm',
      'device c 1 9 rwm',
      'device c 5 0 rwm',
      'device c 5 2 rwm',
      'device c 136 * rwm',
      'device-filter /sys/fs/cgroup/tsproc/x',
    ],
  );
  t.ok(
    text.indexOf('device-filter /sys/fs/cgroup/tsproc/x') < text.indexOf('cgroup-procs /sys/fs/cgroup/tsproc/x/cgroup.procs'),
    'the filter before the container joins',
  );
  const hybrid = planCgroup({ kind: 'hybrid', v1: { memory: '/sys/fs/cgroup/memory' }, unified: '/sys/fs/cgroup/unified' }, 'tsproc', 'x');
  t.match(encodeHelperConfig(helperConfig(plan(), '/s/x', hybrid, roots)).text, /^device-filter \/sys\/fs\/cgroup\/unified\/tsproc\/x$/m);
  const v1 = planCgroup({ kind: 'v1', v1: { memory: '/sys/fs/cgroup/memory' }, unified: undefined }, 'tsproc', 'x');
  t.notMatch(encodeHelperConfig(helperConfig(plan(), '/s/x', v1, roots)).text, /^device/m, 'pure v1: the devices controller alone');
  t.notMatch(
    encodeHelperConfig(helperConfig(plan({ privileged: true }), '/s/x', v2, roots)).text,
    /^device/m,
    '--privileged: every device',
  );
});
