// `tsproc mount` for real: the tree, reads by common tools, parallel readers, refusals, stop and recovery.
import t from 'tap';
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { BIN, mountedAt, run, serverPid, startDaemon, tempMountpoint, forceUnmount, waitFor } from '../helpers/daemon.js';
import { EXPECTED_FILES } from '../helpers/served-files.js';

/** A file's first line with the figures blanked out: its labels and its number of fields. */
const shape = (text: string) =>
  text
    .split('\n')[0]!
    .split(/\s+/)
    .map((f) => (/^[0-9.:/-]+$/.test(f) ? '#' : f))
    .join(' ');

const FILES = EXPECTED_FILES;

/** fstat of an open file, and the bytes read from it to EOF. */
function fstatAndRead(path: string): { size: number; read: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(1 << 20);
    let read = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) read += n;
    return { size, read };
  } finally {
    closeSync(fd);
  }
}

t.test('the tree: directories, read-only files whose size is what their reader reads', async (t) => {
  const d = await startDaemon(t);
  t.same(readdirSync(d.dir).sort(), ['proc', 'sys']);
  t.same(readdirSync(`${d.dir}/proc`).sort(), ['cpuinfo', 'diskstats', 'loadavg', 'meminfo', 'stat', 'swaps', 'uptime']);
  t.same(readdirSync(`${d.dir}/sys/devices/system/cpu`), ['online']);
  const ls = run('ls', ['-la', `${d.dir}/proc`]);
  t.match(ls.stdout, /^dr-xr-xr-x .* \.$/m, 'ls -la shows .');
  t.match(ls.stdout, /^-r--r--r-- 1 root root [1-9][0-9]* .* meminfo$/m);
  for (const f of FILES) {
    const st = statSync(`${d.dir}/${f}`);
    t.equal(st.mode, 0o100444, `${f} mode`);
    t.ok(st.size > 0, `${f}: stat gives a size (${st.size}), never 0`);
    const open = fstatAndRead(`${d.dir}/${f}`);
    t.equal(open.size, open.read, `${f}: fstat of an open file gives the length read from it (${open.read})`);
  }
  const cpuinfo = readFileSync(`${d.dir}/proc/cpuinfo`).length;
  t.ok(
    statSync(`${d.dir}/proc/cpuinfo`).size - cpuinfo === 64,
    'stat by path with nothing open: the length the caller reads, and 64 bytes to spare',
  );
  // Node's readFileSync reads no more than the size fstat gives: a size shorter than the content would cut it
  t.equal(
    readFileSync(`${d.dir}/proc/cpuinfo`, 'latin1'),
    run('cat', [`${d.dir}/proc/cpuinfo`]).stdout,
    "Node's readFileSync: the whole file",
  );
  t.equal(statSync(`${d.dir}/proc`).mode, 0o40555);
  const df = run('stat', ['-f', '-c', '%T', d.dir]);
  t.equal(df.status, 0, 'statfs answers');
});

t.test('every file reads to EOF with cat, head, python and node', async (t) => {
  const d = await startDaemon(t);
  for (const f of FILES) {
    const path = `${d.dir}/${f}`;
    const host = readFileSync(f.startsWith('proc') ? `/${f}` : `/${f}`, 'utf8');
    const cat = run('cat', [path]);
    t.equal(cat.status, 0, `cat ${f}`);
    t.ok(cat.stdout.length > 0 && cat.stdout.endsWith('\n'), `${f} ends with a newline`);
    t.equal(shape(cat.stdout), shape(host), `${f} has the host's first line, figures aside`);
    const head = run('head', ['-n', '1', path]).stdout;
    t.equal(head.split('\n').length, 2, `head ${f}: one line`);
    t.equal(shape(head), shape(host), `head ${f}: the first line`);
    const py = run('python3', ['-c', `import sys; d=open(sys.argv[1]).read(); print(len(d.splitlines()))`, path]);
    t.equal(py.stdout.trim(), String(cat.stdout.split('\n').length - 1), `python ${f} reads every line`);
    t.equal(shape(readFileSync(path, 'utf8')), shape(host), `node ${f}`);
  }
  // A reader taking a byte at a time gets the same text as one taking it whole.
  const dd = run('dd', [`if=${d.dir}/proc/cpuinfo`, 'bs=1', 'status=none']);
  t.equal(dd.stdout, run('cat', [`${d.dir}/proc/cpuinfo`]).stdout, 'byte by byte, one snapshot');
});

// busybox's cat (Alpine's, every busybox image's) copies with sendfile(2). Before the kernel's fix
// "fuse: use copy_splice_read for FOPEN_DIRECT_IO" (2026), splice reads a direct-I/O FUSE file through
// the page cache, bounded by the inode's size (with a size of 0 it printed nothing). tsproc refuses
// the page cache's READs, so sendfile fails and busybox falls back to read(2) (docs/decisions.md).
t.test(
  'busybox cat (sendfile) reads every file whole, again and again',
  { skip: existsSync('/bin/busybox') ? false : 'no /bin/busybox' },
  async (t) => {
    const d = await startDaemon(t);
    for (let round = 0; round < 2; round++) {
      for (const f of FILES) {
        const viaSendfile = run('busybox', ['cat', `${d.dir}/${f}`]).stdout;
        t.ok(viaSendfile.length > 0 && viaSendfile.endsWith('\n'), `${f}: ${viaSendfile.length} bytes through sendfile`);
        t.equal(shape(viaSendfile), shape(run('cat', [`${d.dir}/${f}`]).stdout), `${f}: what read(2) gives`);
      }
    }
    // On kernels with the fix, sendfile reads through read_iter (direct I/O) and succeeds
    const trace = run('strace', ['-e', 'trace=sendfile,read', 'busybox', 'cat', `${d.dir}/proc/uptime`]);
    t.equal(trace.status, 0, 'strace busybox cat', { stderr: trace.stderr });
    const sendfile = /sendfile\(1, 3, NULL, \d+\)\s+= (-1 \w+|\d+)/.exec(trace.stderr)?.[1];
    if (sendfile?.startsWith('-1')) {
      t.equal(sendfile, '-1 EINVAL', 'strace: sendfile fails with EINVAL (the page cache is refused)...');
      t.match(trace.stderr, /read\(3, "\d+\.\d\d \d+\.\d\d\\n", \d+\)/, '...and busybox reads the file with read(2)');
    } else t.ok(Number(sendfile) > 0, `strace: sendfile gives the file (${sendfile} bytes): a kernel with the fuse splice fix`);
  },
);

t.test('8 processes reading in parallel all get whole files', async (t) => {
  const d = await startDaemon(t);
  const script = `
    const fs = require('fs'); let bad = 0;
    for (let i = 0; i < 300; i++) {
      const m = fs.readFileSync(process.argv[1] + '/proc/meminfo', 'utf8');
      const s = fs.readFileSync(process.argv[1] + '/proc/stat', 'utf8');
      if (!m.startsWith('MemTotal:') || !m.endsWith('\\n') || !s.startsWith('cpu ')) bad++;
    }
    console.log(bad);`;
  const results = await Promise.all(
    Array.from(
      { length: 8 },
      () =>
        new Promise<string>((resolve) => {
          const p = spawn(process.execPath, ['-e', script, d.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          p.stdout.on('data', (x: Buffer) => (out += x.toString()));
          p.on('close', (code) => resolve(code === 0 ? out.trim() : `exit ${code}`));
        }),
    ),
  );
  t.same(results, Array(8).fill('0'), '2400 reads each of meminfo and stat, none torn');
});

t.test('writes, creates, mkdir, unlink are refused as on a read-only filesystem', async (t) => {
  const d = await startDaemon(t);
  t.throws(() => writeFileSync(`${d.dir}/proc/meminfo`, 'x'), { code: 'EROFS' });
  t.throws(() => writeFileSync(`${d.dir}/proc/new`, 'x'), { code: 'EROFS' });
  t.throws(() => mkdirSync(`${d.dir}/proc/dir`), { code: 'EROFS' });
  t.match(run('rm', ['-f', `${d.dir}/proc/meminfo`]).stderr, /Read-only file system/);
  t.match(run('mv', [`${d.dir}/proc/stat`, `${d.dir}/proc/stat2`]).stderr, /Read-only file system/);
  t.match(run('chmod', ['777', `${d.dir}/proc/stat`]).stderr, /Read-only file system/);
  t.match(
    run('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.x", b"1")', `${d.dir}/proc/stat`]).stderr,
    /Errno 30\] Read-only file system/,
  );
  t.match(
    run('python3', ['-c', 'import os,sys; os.getxattr(sys.argv[1], "user.x")', `${d.dir}/proc/stat`]).stderr,
    /Errno 61\] No data available/,
  );
  t.ok(existsSync(`${d.dir}/proc/meminfo`), 'still there');
});

t.test('SIGTERM unmounts and exits 0; the pidfile comes and goes', async (t) => {
  const pidfile = `/tmp/tsproc-test-${process.pid}.pid`;
  const d = await startDaemon(t, { args: ['--pidfile', pidfile] });
  t.equal(readFileSync(pidfile, 'utf8').trim(), String(d.proc.pid));
  t.ok(mountedAt(d.dir));
  d.proc.kill('SIGTERM');
  t.equal(await d.exited, 0);
  t.notOk(mountedAt(d.dir), 'unmounted');
  t.notOk(existsSync(pidfile), 'pidfile removed');
});

t.test('SIGINT does the same', async (t) => {
  const d = await startDaemon(t);
  d.proc.kill('SIGINT');
  t.equal(await d.exited, 0);
  t.notOk(mountedAt(d.dir));
});

t.test('an external umount makes the daemon exit cleanly', async (t) => {
  const d = await startDaemon(t);
  t.equal(run('umount', [d.dir]).status, 0);
  t.equal(await d.exited, 0);
  t.match(d.stderr(), /unmounted/);
});

t.test('kill -9 leaves a dead mount; readers get an error, not a hang; mounting again at once recovers', async (t) => {
  const dir = tempMountpoint();
  t.teardown(() => {
    forceUnmount(dir);
    if (existsSync(dir)) rmdirSync(dir);
  });
  const first = await startDaemon(t, { dir, keepDir: true });
  // the kernel keeps the root's attributes 60 s: a probe by stat(2) took the dead mount for a live one
  t.ok(statSync(dir).isDirectory());
  // every process of it: the supervisor and its serving process
  const server = serverPid(first);
  first.proc.kill('SIGKILL');
  process.kill(server, 'SIGKILL');
  await first.exited;
  const dead = run('cat', [`${dir}/proc/meminfo`], 5000);
  t.not(dead.status, 0);
  // ENOTCONN, or ECONNABORTED where the connection was aborted through fusectl (kernels name the two apart)
  t.match(dead.stderr, /Transport endpoint is not connected|Software caused connection abort/);
  const second = await startDaemon(t, { dir, keepDir: true });
  t.match(second.stderr(), /dead tsproc mount/);
  t.match(run('cat', [`${dir}/proc/meminfo`]).stdout, /^MemTotal:/);
  t.equal(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4] === dir).length,
    1,
    'one mount, the dead one gone',
  );
});

t.test('a live mount is refused and left alone', async (t) => {
  const d = await startDaemon(t);
  const again = run(process.execPath, [BIN, 'mount', d.dir]);
  t.equal(again.status, 1);
  t.match(again.stderr, new RegExp(`tsproc: ${d.dir} already holds a fuse.tsproc mount`));
  t.match(run('cat', [`${d.dir}/proc/meminfo`]).stdout, /^MemTotal:/, 'the first still serves');
});

t.test('the mountpoint is created when missing; --debug logs each request with the caller', async (t) => {
  const dir = `${tempMountpoint()}/sub/dir`;
  t.teardown(() => run('rm', ['-rf', dir.replace(/\/sub\/dir$/, '')]));
  const d = await startDaemon(t, { dir, args: ['--debug', '--threads', '3'], keepDir: true });
  t.match(d.stderr(), /3 worker threads/);
  const cat = spawn('cat', [`${dir}/proc/uptime`], { stdio: 'ignore' });
  await new Promise((r) => cat.on('exit', r));
  const read = new RegExp(`READ unique=\\d+ node=\\d+ pid=${cat.pid} uid=0 -> \\d+ bytes`);
  await waitFor(() => read.test(d.stderr()), 'the READ log line');
  t.match(d.stderr(), read);
  t.match(d.stderr(), /LOOKUP .* -> 128 bytes/);
});

t.test('bad flags: a clear message, a non-zero exit, nothing mounted', async (t) => {
  const dir = tempMountpoint();
  t.teardown(() => rmdirSync(dir));
  const bad = run(process.execPath, [BIN, 'mount', dir, '--threads', '0']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /--threads wants a positive integer, not "0"/);
  const opt = run(process.execPath, [BIN, 'mount', dir, '-o', 'allow_other,bogus']);
  t.not(opt.status, 0);
  t.match(opt.stderr, /-o bogus: unsupported FUSE option/);
  const none = run(process.execPath, [BIN, 'mount']);
  t.equal(none.status, 1);
  t.match(none.stderr, /missing required argument 'dir'/);
  t.notOk(mountedAt(dir));
  const lx = await startDaemon(t, { args: ['-f', '-o', 'allow_other'] });
  t.ok(mountedAt(lx.dir), "lxcfs's -f and -o allow_other are accepted");
});
