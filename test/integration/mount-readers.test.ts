// Every kind of reader at once, from two containers with other limits and from the host: read(2),
// pread at offsets, sendfile, splice into a pipe, mmap and busybox cat (sendfile, then read(2)) for a
// minute. None may hang the mount, and none may get another reader's figures or a cut file (issue
// 10: FUSE_NOTIFY_STORE at open deadlocked every worker on a page a splice reader held locked, and the
// shared page cache handed one container's meminfo to the other).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { forceUnmount, startDaemon } from '../helpers/daemon.js';
import { cannotRun, sandbox, tempDir, usrRoot } from '../helpers/runner.js';

const skip = cannotRun();
if (skip) t.plan(0, skip);

const READERS = fileURLToPath(new URL('../../../test/helpers/readers.py', import.meta.url));
// under the VM's emulation (6.1's splice path) 10 s of readers are some hundred reads: enough there
const SECONDS = process.env.TSPROC_VM ? 10 : 60;
/** Past this, the readers are hung: the watchdog aborts the connection and the test fails. */
const HANG_MS = (SECONDS + 120) * 1000;
const ALL = 'busybox,busybox,read,pread,sendfile,splice,mmap';
/** these never fail over: every read must be whole and the reader's own */
const NEVER_REFUSED = new Set(['busybox', 'read', 'pread']);

interface Report {
  refs: Record<string, unknown>;
  results: Record<string, { reads: number; ok: number; foreign: number; cut: number; refused: number; error: number; samples: string[] }>;
}

/** A reader process's JSON report, or why there is none. */
function report(child: ChildProcess): Promise<{ report?: Report; output: string }> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) =>
    child.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('{"refs"'));
      resolve({ report: line ? (JSON.parse(line) as Report) : undefined, output: out });
    }),
  );
}

t.test('two containers and the host, every kind of reader for a minute: no hang, nothing foreign, nothing cut', async (t) => {
  const d = await startDaemon(t);
  const s = sandbox(t);
  const root = usrRoot(t);
  const container = (limits: string[]) => {
    const tmp = tempDir(t, 'readers-tmp');
    const c = s.start([
      '--rootfs',
      root,
      '-v',
      '/usr:/usr:ro',
      '-v',
      `${READERS}:/readers.py:ro`,
      '-v',
      `${tmp}:/tmp`,
      '--lxcfs-root',
      d.dir,
      ...limits,
      '--',
      'python3',
      '/readers.py',
      '/',
      String(SECONDS),
      ALL,
    ]);
    return { child: c.child, done: report(c.child) };
  };
  const small = container(['-m', '64m', '--cpus', '0.5']);
  const large = container(['-m', '300m', '--cpus', '2']);
  const host = spawn('python3', [READERS, d.dir, String(SECONDS), 'busybox,read,sendfile,splice'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const hostDone = report(host);

  let hung = false;
  const watchdog = setTimeout(() => {
    // a hung mount: free the readers (abort the connection) so the test can fail instead of hanging
    hung = true;
    forceUnmount(d.dir);
    for (const c of [small.child, large.child, host]) c.kill('SIGKILL');
  }, HANG_MS);
  const [a, b, h] = await Promise.all([small.done, large.done, hostDone]);
  clearTimeout(watchdog);
  t.notOk(hung, `every reader finished within ${HANG_MS / 1000} s (the mount did not hang)`);

  const hostMemTotal = readFileSync('/proc/meminfo', 'utf8').split('\n')[0];
  const cases: Array<[string, { report?: Report; output: string }, Record<string, unknown>]> = [
    [
      '64m, 0.5 CPU',
      a,
      { 'proc/meminfo': 'MemTotal:          65536 kB', 'proc/stat': ['cpu', 'cpu0'], 'sys/devices/system/cpu/online': '0\n' },
    ],
    [
      '300m, 2 CPUs',
      b,
      { 'proc/meminfo': 'MemTotal:         307200 kB', 'proc/stat': ['cpu', 'cpu0', 'cpu1'], 'sys/devices/system/cpu/online': '0-1\n' },
    ],
    ['the host', h, { 'proc/meminfo': hostMemTotal }],
  ];
  for (const [who, r, refs] of cases) {
    if (!t.ok(r.report, `${who}: the readers reported`, { output: r.output })) continue;
    for (const [file, want] of Object.entries(refs)) t.same(r.report!.refs[file], want, `${who}: ${file} shows its own limits`);
    for (const [key, res] of Object.entries(r.report!.results)) {
      const kind = key.split(' ')[0]!;
      t.ok(res.reads > 0, `${who}, ${key}: read ${res.reads} times`);
      t.same(
        { foreign: res.foreign, cut: res.cut, error: res.error },
        { foreign: 0, cut: 0, error: 0 },
        `${who}, ${key}: none foreign, cut or failed`,
        { samples: res.samples },
      );
      if (NEVER_REFUSED.has(kind)) t.equal(res.ok, res.reads, `${who}, ${key}: every read whole and its own`, { samples: res.samples });
    }
  }
  t.same(s.leftovers(), []);
});
