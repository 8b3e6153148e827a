// `tsproc run` for real: namespaces, the filesystem, identity, privileges, exit statuses.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { busyboxRoot, cannotRun, sandbox, tempDir } from '../helpers/runner.js';
import {
  capabilityNames,
  DOCKER_CAPABILITIES,
  DOCKER_MASKED_PATHS,
  DOCKER_READONLY_PATHS,
  maskedLine,
  PROC_SYS_PROBE,
  probeFacts,
  profileProbe,
} from '../helpers/security-profiles.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

t.test('namespaces: its own PID 1, hostname, IPC, no host processes, loopback only and up', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  // a System V message queue of the host's, which a container must not see (/proc/sysvipc/msg lists its namespace's)
  const made = spawnSync('ipcmk', ['-Q'], { encoding: 'utf8' });
  const queue = /id: (\d+)/.exec(made.stdout)?.[1];
  t.ok(queue, `a host message queue: ${made.stdout}${made.stderr}`);
  t.teardown(() => void (queue && spawnSync('ipcrm', ['-q', queue])));
  t.ok(
    readFileSync('/proc/sysvipc/msg', 'utf8')
      .split('\n')
      .some((l) => l.trim().split(/\s+/)[1] === queue),
    'the host sees it',
  );
  // IFF_UP is bit 0 of an interface's flags; ping 127.0.0.1 needs lo up (CAP_NET_RAW is docker's)
  const probe =
    'echo pid=$$; hostname; ps -o pid,comm > /tmp/ps; tail -n +2 /tmp/ps | wc -l; sed -n 2p /tmp/ps; ls /sys/class/net; cat /sys/class/net/lo/flags; ping -c 1 -W 5 127.0.0.1 > /dev/null && echo ping-ok; readlink /proc/self/ns/ipc; tail -n +2 /proc/sysvipc/msg | wc -l';
  const r = await s.run(['--rootfs', root, '--hostname', 'box1', 'sh', '-c', probe]);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '));
  t.same(lines.slice(0, 5), ['pid=1', 'box1', '2', '1 sh', 'lo'], 'PID 1, the hostname, two processes (sh, ps), one interface');
  t.ok(Number(lines[5]) & 1, `lo is up (flags ${lines[5]})`);
  t.equal(lines[6], 'ping-ok', '127.0.0.1 answers');
  t.match(lines[7], /^ipc:\[\d+\]$/);
  t.not(lines[7], readlinkSync('/proc/self/ns/ipc'), 'an IPC namespace of its own');
  t.equal(lines[8], '0', "none of the host's message queues");
  t.same(s.leftovers(), []);
});

t.test("default hostname is the short id; --net host shares the host's network and name", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run(['--rootfs', root, 'sh', '-c', 'hostname; cat /etc/hostname; echo $HOSTNAME']);
  const [a, b, c] = r.stdout.trim().split('\n');
  t.match(a!, /^[0-9a-f]{12}$/);
  t.equal(b, a);
  t.equal(c, a);
  const host = await s.run(['--rootfs', root, '--net', 'host', 'sh', '-c', 'hostname; ls /sys/class/net | wc -l']);
  t.equal(host.stdout.split('\n')[0], hostname());
  t.equal(Number(host.stdout.split('\n')[1]), readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length - 2, "the host's interfaces");
});

t.test('/etc/hosts, resolv.conf; environment, user, workdir', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const env = `${tempDir(t, 'env')}/list`;
  writeFileSync(env, '# docker env-file\nFROM_FILE=1\n');
  mkdirSync(`${root}/home/alice`, { recursive: true });
  const r = await s.run([
    '--rootfs',
    root,
    '--add-host',
    'db:10.1.2.3',
    '-e',
    'A=b c',
    '--env-file',
    env,
    '-u',
    'alice',
    '-w',
    '/home/alice',
    'sh',
    '-c',
    'grep -E "localhost|db" /etc/hosts; env | sort; id; pwd',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^127\.0\.0\.1\tlocalhost$/m);
  t.match(r.stdout, /^10\.1\.2\.3\tdb$/m);
  t.match(r.stdout, /^A=b c$/m);
  t.match(r.stdout, /^FROM_FILE=1$/m);
  t.match(r.stdout, /^HOME=\/home\/alice$/m);
  t.match(r.stdout, /^PATH=\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin$/m);
  t.match(
    r.stdout,
    /^uid=1000\(alice\) gid=1000\(alice\) groups=10\(wheel\),1000\(alice\)$/m,
    "its primary group and those listing it in the root's /etc/group",
  );
  // NAME:GROUP is that group only, as docker has it
  const g = await s.run(['--rootfs', root, '-u', 'alice:nogroup', 'id']);
  t.equal(g.stdout, 'uid=1000(alice) gid=65534(nogroup) groups=65534(nogroup)\n', g.stderr);
  t.match(r.stdout, /^\/home\/alice$/m);
  t.equal(readFileSync(`${root}/etc/hosts`, 'utf8'), '', 'the root got an empty mount point, nothing else');
  // -w DIR: made if missing, as docker does
  const w = await s.run(['--rootfs', root, '-u', 'alice', '-w', '/srv/app', 'sh', '-c', 'pwd; stat -c "%A %U" .']);
  t.equal(w.stdout, '/srv/app\ndrwxr-xr-x root\n', w.stderr);
});

t.test("the root's /etc files may be symlinks to nothing: their targets are made inside the root", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const outside = `${tempDir(t, 'outside')}/hosts`;
  // as a root made on a host with systemd-resolved has it; and one that tries to leave the root
  symlinkSync('../run/systemd/resolve/stub-resolv.conf', `${root}/etc/resolv.conf`);
  symlinkSync(`../../../../../../..${outside}`, `${root}/etc/hosts`);
  const r = await s.run([
    '--rootfs',
    root,
    '--add-host',
    'db:10.1.2.3',
    'sh',
    '-c',
    'grep -c db /etc/hosts; [ -f /etc/resolv.conf ] && echo resolv',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '1\nresolv\n', 'both bound over their targets');
  t.ok(existsSync(`${root}/run/systemd/resolve/stub-resolv.conf`), 'the target: an empty mount point in the root');
  t.notOk(existsSync(outside), 'nothing made outside the root');
  t.same(s.leftovers(), []);
});

t.test('volumes, read-only volumes, --read-only', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const data = tempDir(t, 'vol');
  writeFileSync(`${data}/in`, 'from host\n');
  const r = await s.run([
    '--rootfs',
    root,
    '-v',
    `${data}:/data`,
    '-v',
    `${data}:/ro:ro`,
    'sh',
    '-c',
    'cat /data/in; echo out > /data/out; echo x > /ro/x || echo ro-refused',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /from host\nro-refused/);
  t.equal(readFileSync(`${data}/out`, 'utf8'), 'out\n');
  const ro = await s.run(['--rootfs', root, '--read-only', 'sh', '-c', 'touch /x 2>&1; echo $?; touch /dev/shm/ok && echo shm-ok']);
  t.match(ro.stdout, /Read-only file system\n1\nshm-ok/);
  t.same(s.leftovers(), []);
});

// device nodes: run-devices.test.ts
t.test("privileges: docker's capabilities, no_new_privs, seccomp, its eleven masked and its read-only paths, /sys read-only", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run(['--rootfs', root, 'sh', '-c', profileProbe(DOCKER_MASKED_PATHS, [...DOCKER_READONLY_PATHS, '/sys'])]);
  t.equal(r.status, 0, r.stderr);
  const facts = probeFacts(r.stdout);
  t.same(capabilityNames(facts.get('cap CapEff')!), [...DOCKER_CAPABILITIES].sort(), "docker's 14 capabilities");
  t.equal(facts.get('cap CapBnd'), facts.get('cap CapEff'), 'the bounding set is the same');
  t.equal(facts.get('nnp'), '1', 'no_new_privs');
  t.equal(facts.get('seccomp'), '2', "a seccomp filter (docker's default profile)");
  // a path this kernel has is masked; one it has not stays absent (docker masks what exists)
  for (const p of DOCKER_MASKED_PATHS)
    t.match(facts.get(`mask ${p}`), new RegExp(`^${maskedLine(p).replace(/^mask \S+: /, '')}`), `masked: ${p}`);
  for (const p of [...DOCKER_READONLY_PATHS, '/sys'])
    t.equal(facts.get(`ro ${p}`), existsSync(p) ? `ro ${p === '/sys' ? 'sysfs' : 'proc'}` : 'absent', `read-only: ${p}`);
  t.equal(facts.get(`write ${PROC_SYS_PROBE}`), 'refused', '/proc/sys cannot be written, even where root may (its own UTS namespace)');
  const caps = await s.run([
    '--rootfs',
    root,
    '--cap-drop',
    'ALL',
    '--cap-add',
    'NET_ADMIN',
    '-u',
    '1000',
    'sh',
    '-c',
    'grep -E "^Cap(Bnd|Eff)" /proc/self/status',
  ]);
  t.match(
    caps.stdout,
    /CapEff:\s+0000000000000000\nCapBnd:\s+0000000000001000/,
    'bounding set as asked; a non-root user has no effective capabilities',
  );
  const priv = await s.run(['--rootfs', root, '--privileged', 'sh', '-c', profileProbe(['/sys/firmware'], ['/proc/sys', '/sys'])]);
  const privFacts = probeFacts(priv.stdout);
  const ours = /^CapBnd:\s+(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  t.same(
    [privFacts.get('cap CapEff'), privFacts.get('nnp'), privFacts.get('seccomp')],
    [ours, '0', '0'],
    '--privileged: every capability we have, no no_new_privs, no seccomp filter',
  );
  t.match(privFacts.get('mask /sys/firmware'), /^dir [1-9]\d* entries no mount$/, '--privileged: nothing masked');
  t.same([privFacts.get('ro /proc/sys'), privFacts.get('ro /sys')], ['no mount', 'rw sysfs'], '--privileged: /proc/sys and /sys writable');
});

t.test("/sys/fs/cgroup is the container's own cgroup, read-only", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run([
    '--rootfs',
    root,
    'sh',
    '-c',
    'cat /proc/self/cgroup; grep " /sys/fs/cgroup" /proc/self/mountinfo; for d in /sys/fs/cgroup /sys/fs/cgroup/*/; do [ -d "$d" ] && { mkdir "$d/tsproc-test-x" 2>&1 && { echo "created in $d"; rmdir "$d/tsproc-test-x"; }; }; done; true',
  ]);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  // as many hierarchies as this process is in, each the container's own (its cgroup namespace's root)
  const hierarchies = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').length;
  const memberships = lines.filter((l) => /^[0-9]+:[^:]*:/.test(l));
  t.equal(memberships.length, hierarchies, 'in every hierarchy we are in');
  for (const line of memberships) t.match(line, /:\/$/, `cgroup namespace: ${line}`);
  const mounts = lines.filter((l) => / - cgroup2? /.test(l));
  t.equal(mounts.length, hierarchies, 'one cgroup mount a hierarchy');
  for (const line of mounts)
    t.match(line, /^\S+ \S+ \S+ \/ \/sys\/fs\/cgroup\S* ro,/, `its root is the container's cgroup, read-only: ${line}`);
  const below = mounts.filter((l) => l.split(' ')[4] !== '/sys/fs/cgroup').length;
  const refused = lines.filter((l) => /^mkdir: .*tsproc-test-x.*: Read-only file system$/.test(l));
  t.equal(refused.length, 1 + below, `no cgroup can be made: /sys/fs/cgroup and each hierarchy below it refuse (EROFS)\n${r.stdout}`);
  t.notMatch(r.stdout, /created in/);
});

t.test("exit statuses: the command's own, 127, 126, 128+N", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  t.equal((await s.run(['--rootfs', root, 'true'])).status, 0);
  t.equal((await s.run(['--rootfs', root, 'sh', '-c', 'exit 42'])).status, 42);
  const missing = await s.run(['--rootfs', root, 'no-such-command']);
  t.equal(missing.status, 127);
  t.match(missing.stderr, /^tsproc: no-such-command: executable file not found/);
  const notExec = await s.run(['--rootfs', root, '/etc/passwd']);
  t.equal(notExec.status, 126);
  t.match(notExec.stderr, /^tsproc: \/etc\/passwd: cannot be executed: EACCES/);
  t.equal((await s.run(['--rootfs', root, '--init', 'sh', '-c', 'kill -TERM $$'])).status, 143, 'killed by SIGTERM: 143');
  t.same(s.leftovers(), []);
});

t.test('--init: a minimal PID 1 runs the command and reaps orphans', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  // an orphan (its parent, a subshell, is gone at once) that ends: the init reaps it, or it stays a
  // zombie; waited for until its /proc entry goes (reaped), for 20 s at most (a bound, not a timing)
  const orphan = [
    '(sleep 0.1 & echo $! > /tmp/orphan)',
    'o=$(cat /tmp/orphan); i=0',
    'while [ -e /proc/$o ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done',
    '[ -e /proc/$o ] && echo "orphan $o: state $(cut -d" " -f3 /proc/$o/stat), parent $(cut -d" " -f4 /proc/$o/stat)" || echo "orphan reaped"',
    'ps -o pid,stat,comm; exit 0',
  ].join('; ');
  const r = await s.run(['--rootfs', root, '--init', 'sh', '-c', orphan]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^orphan reaped$/m, 'the orphan was reaped');
  t.match(r.stdout, /^\s*1 \S+\s+tsproc-helper$/m, 'PID 1 is the init');
  t.notMatch(r.stdout, /^\s*\d+ Z/m, 'no zombie left');
  t.match(r.stdout, /^\s*2 \S+\s+sh$/m, 'the command is PID 2');
});

t.test("-t: a pseudo-terminal of the container's own, relayed by the monitor; -i feeds it", async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const r = await s.run([
    '--rootfs',
    root,
    '-t',
    'sh',
    '-c',
    'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; ls -l /dev/console; echo $TERM; exit 3',
  ]);
  t.equal(r.status, 3, r.stderr);
  const lines = r.stdout.split('\r\n');
  t.equal(lines[0], '/dev/pts/0', 'its own devpts: the first pty');
  t.equal(lines[1], 'all-tty');
  t.match(lines[2]!, /^crw--w---- .* 136, *0 .* \/dev\/console$/, '/dev/console is the pty');
  t.equal(lines[3], 'xterm');
  const i = await s.run(['--rootfs', root, '-t', '-i', 'sh', '-c', 'read x; echo "got $x"'], { input: 'hello\n' });
  t.match(i.stdout, /got hello\r\n/);
  t.same(s.leftovers(), []);
});
