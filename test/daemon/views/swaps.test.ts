// swaps: one "none ... virtual" line with the container's swap, the header alone without swap.
import t from 'tap';
import { swaps } from '../../../src/daemon/views/swaps.js';
import { copyFixture, fixture, show } from '../../helpers/fixtures.js';

const HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

t.test('no swap on the host: the header alone', async (t) => {
  t.equal(show(fixture('v1'), swaps), HEADER);
  t.equal(show(fixture('v2'), swaps), HEADER);
});

/*
 * v2, the host given 1 GiB of swap:
 *   tsproc                          memory.swap.max max
 *   └── ctr1                        memory.swap.max 64 MiB, memory.swap.current 4 MiB
 */
t.test('v2: the container swap as one line in the kernel columns; --no-swap', async (t) => {
  const root = copyFixture(t, 'v2');
  const f = fixture('v2', { root });
  f.write(
    'host/proc/meminfo',
    f.env
      .host('/proc/meminfo')
      .replace(/SwapTotal:.*/, 'SwapTotal:       1048576 kB')
      .replace(/SwapFree:.*/, 'SwapFree:         638976 kB'),
  );
  f.write('cgroup/tsproc/ctr1/memory.swap.current', '4194304\n');
  const text = show(f, swaps);
  t.equal(text, `${HEADER}none                                    virtual\t65536\t\t4096\t\t0\n`);
  const cols = text.split('\n')[1]!.split(/\s+/);
  t.same(cols, ['none', 'virtual', '65536', '4096', '0'], 'swapon and free read it by whitespace');
  t.equal(show(fixture('v2', { root, options: { swap: false } }), swaps), HEADER);
});

t.test('a host reader without a memory limit: the host file', async (t) => {
  const f = fixture('v1', { scope: 'host' });
  t.equal(show(f, swaps, { ...f.reader, cgroup: { ...f.reader.cgroup, memory: '/' } }), 'HOST');
});
