// diskstats: the container's own reads and writes per device, in the kernel's columns.
import t from 'tap';
import { diskstats } from '../../../src/daemon/views/diskstats.js';
import { copyFixture, fixture, show } from '../../helpers/fixtures.js';

t.test('no I/O yet: no lines', async (t) => {
  t.equal(show(fixture('v1'), diskstats), '');
  t.equal(show(fixture('v2'), diskstats), '');
});

/* v1: ctr1 read 1 MiB in 16 operations and wrote 2 MiB in 32 on vda (254:0). */
t.test('v1 blkio: operations and sectors of the devices it used', async (t) => {
  const f = fixture('v1', { root: copyFixture(t, 'v1') });
  f.write(
    'cgroup/blkio/tsproc-fixture/ctr1/blkio.throttle.io_service_bytes_recursive',
    '254:0 Read 1048576\n254:0 Write 2097152\n254:0 Sync 0\n254:0 Async 3145728\n254:0 Discard 0\n254:0 Total 3145728\nTotal 3145728\n',
  );
  f.write(
    'cgroup/blkio/tsproc-fixture/ctr1/blkio.throttle.io_serviced_recursive',
    '254:0 Read 16\n254:0 Write 32\n254:0 Total 48\nTotal 48\n',
  );
  const text = show(f, diskstats);
  t.equal(text, ' 254       0 vda 16 0 2048 0 32 0 4096 0 0 0 0 0 0 0 0 0 0\n');
  t.equal(
    text.split('\n')[0]!.trim().split(/\s+/).length,
    f.env
      .host('/proc/diskstats')
      .split('\n')
      .find((l) => l.includes('vda'))!
      .trim()
      .split(/\s+/).length,
    "as many columns as the host's",
  );
});

/* v2: ctr1 did I/O on 254:0 and discarded on 253:0 (zram0). */
t.test('v2 io.stat', async (t) => {
  const root = copyFixture(t, 'v2');
  const f = fixture('v2', { root });
  f.write(
    'host/proc/diskstats',
    '   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n 254       0 vda 90554 11082 4151170 30676 8371 14869 2258224 8936 0 7520 40008 4519 28 184992 356 1158 38\n 253       0 zram0 4 0 32 0 0 0 0 0 0 0 0 2 0 16 0 0 0\n',
  );
  f.write(
    'cgroup/tsproc/ctr1/io.stat',
    '254:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n253:0 rbytes=0 wbytes=0 rios=0 wios=0 dbytes=8192 dios=2\n',
  );
  t.equal(
    show(f, diskstats),
    ' 254       0 vda 1 0 8 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 2 0 16 0 0 0\n',
  );
});

t.test('a host reader gets the host file', async (t) => {
  t.equal(show(fixture('v2', { scope: 'host' }), diskstats), 'HOST');
});
