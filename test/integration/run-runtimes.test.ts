// Language runtimes find their limits inside: the JVM (cgroup metrics) and Node (constrainedMemory).
import t from 'tap';
import { existsSync, realpathSync } from 'node:fs';
import { cannotRun, sandbox, usrRoot } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test(
  'java -XshowSettings:system reports the memory limit and the CPU count',
  { skip: existsSync('/usr/bin/java') ? false : 'no java here' },
  async (t) => {
    const s = sandbox(t);
    const root = usrRoot(t);
    // /usr/bin/java is an alternatives link through /etc: run the JVM by its real path
    const java = realpathSync('/usr/bin/java');
    const r = await s.run(['--rootfs', root, '-v', '/usr:/usr:ro', '-m', '300m', '--cpus', '1', java, '-XshowSettings:system', '-version']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stderr, /Provider: cgroupv[12]/);
    t.match(r.stderr, /Effective CPU Count: 1$/m);
    t.match(r.stderr, /Memory Limit: 300\.00M$/m);
  },
);

// Node 20's libuv (1.46) reads /proc/self/cgroup, then on v1 /sys/fs/cgroup/memory/<path>/
// memory.limit_in_bytes and memory.soft_limit_in_bytes (on v2 memory.max and memory.high) and
// answers the smaller: inside, <path> is "/" (cgroup namespace) and the mount is the container's.
t.test("node's process.constrainedMemory() is the memory limit", async (t) => {
  const s = sandbox(t);
  const root = usrRoot(t);
  const node = realpathSync(process.execPath);
  const r = await s.run([
    '--rootfs',
    root,
    '-v',
    '/usr:/usr:ro',
    ...(node.startsWith('/usr/') ? [] : ['-v', `${node}:${node}:ro`]),
    '-m',
    '200m',
    node,
    '-p',
    'process.constrainedMemory()',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout.trim(), String(200 * 2 ** 20));
});
