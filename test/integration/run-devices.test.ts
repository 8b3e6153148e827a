// Device nodes in a container: docker's rules refuse a host device made with mknod anywhere, on v1's
// devices controller and on cgroup2's BPF filter alike (on pure v2 the filter is the only control:
// this file runs in the cgroup v2 VM too, test/vm/suites.ts); --privileged allows every device.
import t from 'tap';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { planCgroup } from '../../runner/cgroup/cgroup-plan.js';
import { hostLayout } from '../../src/cgroup-layout.js';
import { busyboxRoot, cannotRun, sandbox, tempDir } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

/** mknod a host device (1:11, /dev/kmsg: on every kernel, harmless to open write-only) in each directory and open it. */
const mknodProbe = (dirs: string[]) =>
  `for d in ${dirs.join(' ')}; do mknod $d/tsproc-kmsg c 1 11 2>/dev/null && : 2>/dev/null > $d/tsproc-kmsg && echo "$d opened" || echo "$d refused"; rm -f $d/tsproc-kmsg; done`;

t.test('device nodes: a host device made with mknod in /, a volume or /dev cannot be used', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const vol = tempDir(t, 'vol');
  closeSync(openSync('/dev/kmsg', 'w')); // the host can: the container's refusal is the device rules'
  const r = await s.run([
    '--rootfs',
    root,
    '-v',
    `${vol}:/vol`,
    'sh',
    '-c',
    `${mknodProbe(['/', '/vol', '/dev'])}; echo x > /dev/null && head -c1 /dev/zero | wc -c`,
  ]);
  t.equal(r.stdout, '/ refused\n/vol refused\n/dev refused\n1\n', 'refused everywhere; /dev/null and /dev/zero work');
  const priv = await s.run(['--rootfs', root, '--privileged', '-v', `${vol}:/vol`, 'sh', '-c', mknodProbe(['/vol'])]);
  t.equal(priv.stdout, '/vol opened\n', '--privileged: every device, as docker');
});

const layout = hostLayout();
const noCgroup2 = layout.unified === undefined ? 'no cgroup2 hierarchy on this host (pure v1): only the devices controller applies' : false;

t.test('device nodes on cgroup2: the BPF filter alone refuses them', { skip: noCgroup2 }, async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const id = (await s.run(['--rootfs', root, '-d', 'sleep', '600'])).stdout.trim();
  // hybrid: open v1's devices controller wide, so that only the filter on the unified cgroup is left
  const v1 = planCgroup(layout, s.parent, id).hierarchies.find((h) => h.controllers.includes('devices'));
  if (v1) writeFileSync(`${v1.dir}/devices.allow`, 'a');
  const r = await s.cli(['exec', id, 'sh', '-c', `${mknodProbe(['/tmp'])}; exec 3<>/dev/ptmx && echo ptmx-ok`]);
  t.equal(r.stdout, '/tmp refused\nptmx-ok\n');
  t.equal((await s.cli(['rm', '-f', id])).status, 0);
});
