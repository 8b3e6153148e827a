// `tsproc seccomp-agent SOCKET` with Debian's runc: a bundle whose profile notifies sysinfo(2) to the
// agent (listenerPath) and binds `tsproc mounts --format oci`: busybox free and a static probe calling
// sysinfo see the bundle's memory limit; each container's server ends with it; the agent stops cleanly.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tsprocMounts } from '../helpers/clients.js';
import { BIN, startDaemon } from '../helpers/daemon.js';
import { runcMissing, runcSandbox } from '../helpers/runc.js';
import { alive, busyboxRoot, cannotRun, tempDir, until } from '../helpers/runner.js';
import { cannotProbe, installProbe, sysinfoFields } from '../helpers/seccomp-probe.js';

const skip = cannotRun() ?? cannotProbe() ?? runcMissing();
if (skip) t.plan(0, skip);

const MiB = 1024 * 1024;

t.test("runc with listenerPath: sysinfo answered from the container's own files", async (t) => {
  const d = await startDaemon(t);
  const socket = `${tempDir(t, 'agent')}/agent.sock`;
  const agent = spawn(process.execPath, ['--', BIN, 'seccomp-agent', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  agent.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
  });
  await until('the agent listens', () => log.includes('listening on'), 30_000);
  const root = busyboxRoot(t);
  installProbe(t, root);
  const r = runcSandbox(t);
  const seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: socket,
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['sysinfo'], action: 'SCMP_ACT_NOTIFY' }],
  };
  const mounts = JSON.parse(tsprocMounts('oci', d.dir)) as object[];
  const ran = await r.run('a', { args: ['sh', '-c', 'probe sysinfo; free'], mounts, memory: 256 * MiB, root, seccomp });
  t.equal(ran.status, 0, ran.stderr);
  const [line = '', ...free] = ran.stdout.split('\n');
  t.equal(sysinfoFields(line).totalram, String(256 * MiB), "sysinfo: the bundle's limit");
  t.match(free.join('\n'), /^Mem:\s+262144\s/m, 'busybox free: 262144 kB');
  const server = Number(/answering sysinfo for pid \d+ \(server pid (\d+)\)/.exec(log)?.[1]);
  t.ok(server > 0, `a server for the container: ${log.trim()}`);
  await until("the container's server ends with it", () => !alive(server), 10_000);
  agent.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: a clean end');
  t.notOk(existsSync(socket), 'the socket goes with it');
  await r.cleanup();
  t.same(r.leftovers(), []);
});
