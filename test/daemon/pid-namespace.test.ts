// Whether the daemon serves from the pid namespace it runs in: the host's (inode 0xEFFFFFFC, the kernel's
// PROC_PID_INIT_INO) always; any other, or one it cannot tell, only with --allow-nested-pid-namespace.
import t from 'tap';
import { INITIAL_PID_NAMESPACE, judgePidNamespace } from '../../src/daemon/pid-namespace.js';

// readlink /proc/self/ns/pid on the host, and in `unshare --pid --fork` (namespaces after the initial
// ones get inodes from 0xF0000000 up, PROC_DYNAMIC_FIRST)
const HOST = 'pid:[4026531836]';
const CHILD = 'pid:[4026532512]';

t.test("the kernel's constant: 0xEFFFFFFC is 4026531836", async (t) => {
  t.equal(INITIAL_PID_NAMESPACE, 4026531836);
});

t.test("the host's pid namespace: served, nothing to say, flag or not", async (t) => {
  t.same(judgePidNamespace(HOST, false), { serve: true });
  t.same(judgePidNamespace(HOST, true), { serve: true });
});

t.test('a child pid namespace: refused, saying why and what to do', async (t) => {
  const v = judgePidNamespace(CHILD, false);
  t.equal(v.serve, false);
  if (v.serve) return;
  t.match(v.message, /^the daemon runs in a pid namespace that is not the host's \(pid:\[4026532512\]; the host's is pid:\[4026531836\]\)/);
  t.match(v.message, /readers outside it would arrive as pid 0/);
  t.match(v.message, /docker run --pid host; Kubernetes: hostPID: true/);
  t.match(v.message, /--allow-nested-pid-namespace/);
});

t.test('a child pid namespace with --allow-nested-pid-namespace: served, with a warning', async (t) => {
  const v = judgePidNamespace(CHILD, true);
  t.equal(v.serve, true);
  if (!v.serve) return;
  t.match(
    v.warning,
    /^warning: the daemon runs in a pid namespace that is not the host's .*started anyway \(--allow-nested-pid-namespace\): readers outside it arrive as pid 0/,
  );
});

t.test('a namespace it cannot tell (no /proc, or a link it does not know): refused unless allowed', async (t) => {
  const enoent = Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
  for (const link of [enoent, 'garbage', 'pid:[]', 'net:[4026531836]']) {
    const v = judgePidNamespace(link, false);
    t.equal(v.serve, false, String(link));
    if (!v.serve) t.match(v.message, /^cannot tell which pid namespace the daemon runs in \(readlink \/proc\/self\/ns\/pid: /);
    t.equal(judgePidNamespace(link, true).serve, true, `${String(link)}, allowed`);
  }
  const v = judgePidNamespace(enoent, false);
  if (!v.serve) t.match(v.message, /\(readlink \/proc\/self\/ns\/pid: ENOENT\)/);
});
