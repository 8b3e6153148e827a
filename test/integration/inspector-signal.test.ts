// SIGUSR1 (systemctl reload of lxcfs.service) opens no Node inspector in any tsproc process: the daemon
// and a long-lived CLI keep running and listen on no new socket (issue 10: root code execution).
import t from 'tap';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { BIN, serverPid, startDaemon, waitFor } from '../helpers/daemon.js';
import { alive, busyboxRoot, cannotRun, sandbox } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

/** The TCP sockets in LISTEN state (st 0A in /proc/net/tcp and tcp6) among the descriptors of pid. */
function listening(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = row.trim().split(/\s+/);
      if (state === '0A' && inodes.has(inode!)) found.push(`${table} ${local}`);
    }
  }
  return found;
}

/** The signal no longer waits in the process's shared pending set: a handler, Node's or ours, has it. */
function delivered(pid: number, signo: number): boolean {
  const shd = /^ShdPnd:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return (BigInt(`0x${shd}`) & (1n << BigInt(signo - 1))) === 0n;
}

const SIGUSR1 = 10;

t.test(
  'the daemon (started as the old systemd line, node bin/tsproc.js) reloads on SIGUSR1, opens no inspector and goes on serving',
  async (t) => {
    const d = await startDaemon(t);
    const pid = d.proc.pid!;
    t.same(listening(pid), [], 'no listening socket before');
    for (const n of [1, 2]) {
      d.proc.kill('SIGUSR1');
      await waitFor(
        () => (d.stderr().match(/reloaded: serving process/g) ?? []).length === n || /Debugger listening/.test(d.stderr()),
        `the daemon's answer to SIGUSR1 number ${n}`,
      );
      // the serving process it started gets the signal too: it must not open an inspector either
      process.kill(serverPid(d), 'SIGUSR1');
    }
    await new Promise((r) => setTimeout(r, 500));
    t.notMatch(d.stderr(), /Debugger listening/, "Node's inspector did not start");
    t.same(listening(pid), [], 'no listening socket after');
    t.same(listening(serverPid(d)), [], 'none in the serving process either');
    t.ok(alive(pid), 'the daemon runs');
    t.match(readFileSync(`${d.dir}/proc/uptime`, 'utf8'), /^\d+\.\d\d \d+\.\d\d\n$/, 'and serves');
  },
);

t.test('a long-lived CLI (logs -f, started as the bin) ignores SIGUSR1 and opens no inspector', async (t) => {
  const s = sandbox(t);
  const root = busyboxRoot(t);
  const name = `tsproc-test-usr1-${process.pid}`;
  // the container says `ready`, then `after` once the test has signalled the CLI and made /go
  const c = await s.run([
    '-d',
    '--name',
    name,
    '--rootfs',
    root,
    'sh',
    '-c',
    'echo ready; while [ ! -e /go ]; do sleep 0.1; done; echo after; exec sleep 1000',
  ]);
  t.equal(c.status, 0, c.stderr);
  const logs = s.startCli(['logs', '-f', name], { launch: [BIN] });
  let stderr = '';
  logs.child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await waitFor(() => logs.output().includes('ready\n'), 'logs -f relays the first line');
  const pid = logs.child.pid!;
  t.same(listening(pid), [], 'no listening socket before');
  logs.child.kill('SIGUSR1');
  await waitFor(() => delivered(pid, SIGUSR1), 'SIGUSR1 delivered');
  writeFileSync(`${root}/go`, '');
  await waitFor(
    () => logs.output().includes('after\n') || logs.child.exitCode !== null,
    'logs -f relays the line written after the signal',
  );
  t.equal(logs.child.exitCode, null, 'the CLI runs on');
  t.equal(logs.output(), 'ready\nafter\n', "and relays the container's output");
  t.notMatch(stderr, /Debugger listening/, "Node's inspector did not start");
  t.same(listening(pid), [], 'no listening socket after');
  const rm = await s.cli(['rm', '-f', name]);
  t.equal(rm.status, 0, rm.stderr);
  await logs.done;
});
