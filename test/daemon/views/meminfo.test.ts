// meminfo rendered from fixture trees: limits, usage, stat lines, swap, ancestors, host readers.
import t from 'tap';
import { meminfo } from '../../../src/daemon/views/meminfo.js';
import { copyFixture, fields, fixture, show } from '../../helpers/fixtures.js';

/*
 * v1 fixture:
 *   memory/tsproc-fixture           limit 1 GiB
 *   └── ctr1                        limit 256 MiB; usage 132736 kB; total_cache 16604 kB (shmem 8192 kB,
 *                                   inactive_file 8412 kB); total_rss 115008 kB; no swap on the host
 */
t.test('v1: the container figures, the host lines it has none for', async (t) => {
  const f = fixture('v1');
  const text = show(f, meminfo);
  const m = fields(text);
  const host = fields(f.env.host('/proc/meminfo'));
  t.equal(m.MemTotal, 262144, 'the 256 MiB limit');
  t.equal(m.MemFree, 262144 - 132736, 'limit less usage (page cache counts as used)');
  t.equal(m.MemAvailable, 262144 - 132736 + 8412, 'free plus reclaimable file cache');
  t.equal(m.Buffers, 0);
  t.equal(m.Cached, 16604);
  t.equal(m.Shmem, 8192);
  t.equal(m.AnonPages, 115008);
  t.equal(m['Active(anon)'], 4);
  t.equal(m['Inactive(anon)'], 123196);
  t.equal(m['Inactive(file)'], 8412);
  t.equal(m.Active, 4);
  t.equal(m.Inactive, 123196 + 8412);
  t.equal(m.Dirty, 8196);
  t.equal(m.Slab, 0, 'v1 has no slab figures: none, not the host');
  t.equal(m.SwapTotal, 0);
  t.equal(m.SwapFree, 0);
  t.equal(m.KernelStack, host.KernelStack, "v1 keeps no kernel stack figure: the host's line");
  t.equal(m.HugePages_Total, host.HugePages_Total);
  t.equal(m.CommitLimit, host.CommitLimit);
  t.equal(text.split('\n').length, f.env.host('/proc/meminfo').split('\n').length, 'every host line, in order');
  t.equal(text.split('\n')[0], 'MemTotal:         262144 kB', "the kernel's columns");
  t.equal(text.split('\n')[1], 'MemFree:          129408 kB');
});

/*
 * v2 fixture:
 *   tsproc                          memory.max 1 GiB, memory.swap.max max
 *   └── ctr1                        memory.max 256 MiB, memory.swap.max 64 MiB; current 168908 kB;
 *                                   file 53836 kB (active 52, inactive 45588); slab_reclaimable 169 kB
 */
/** The container's figures in the v2 fixture, worked out by hand from its files (kB). */
const V2_FIGURES = {
  MemTotal: 262144,
  MemFree: 262144 - 168908,
  MemAvailable: 262144 - 168908 + 52 + 45588 + 169,
  Cached: 53836,
  Mapped: 34916,
  AnonPages: 113956,
  AnonHugePages: 104448,
  SReclaimable: 169,
  SUnreclaim: 91,
  Slab: 169 + 91,
  KernelStack: 96,
  PageTables: 580,
  SwapTotal: 0, // no swap on the host: none in the container either
};

t.test('v2: the same lines from v2 names, slab and kernel figures too', async (t) => {
  const m = fields(show(fixture('v2'), meminfo));
  for (const [k, v] of Object.entries(V2_FIGURES)) t.equal(m[k], v, k);
});

/*
 * v2, the host given 1 GiB of swap (400 MiB used), ctr1 using 4 MiB of its 64 MiB:
 *   tsproc                          memory.swap.max max
 *   └── ctr1                        memory.swap.max 64 MiB, memory.swap.current 4 MiB
 */
t.test('v2 swap: the smallest swap limit, the cgroup swap in use; --no-swap', async (t) => {
  const root = copyFixture(t, 'v2');
  const f = fixture('v2', { root });
  const host = f.env
    .host('/proc/meminfo')
    .replace(/SwapTotal:.*/, 'SwapTotal:       1048576 kB')
    .replace(/SwapFree:.*/, 'SwapFree:         638976 kB');
  f.write('host/proc/meminfo', host);
  f.write('cgroup/tsproc/ctr1/memory.swap.current', '4194304\n');
  f.write(
    'cgroup/tsproc/ctr1/memory.stat',
    f.files.read(`${root}/cgroup/tsproc/ctr1/memory.stat`)!.replace(/^swapcached 0$/m, 'swapcached 65536'),
  );
  const m = fields(show(f, meminfo));
  t.equal(m.SwapTotal, 65536);
  t.equal(m.SwapFree, 65536 - 4096);
  t.equal(m.SwapCached, 64);
  f.write('cgroup/tsproc/ctr1/memory.swap.max', 'max\n');
  t.equal(fields(show(f, meminfo)).SwapTotal, 1048576, "no swap limit anywhere: the host's swap");
  const off = fixture('v2', { root, options: { swap: false } });
  const n = fields(show(off, meminfo));
  t.equal(n.SwapTotal, 0, '--no-swap');
  t.equal(n.SwapFree, 0);
  t.equal(n.SwapCached, 0);
});

/*
 * v1 with swap accounting, the host given 1 GiB of swap:
 *   tsproc-fixture                  memory 1 GiB
 *   └── ctr1                        memory 256 MiB, memsw 320 MiB (64 MiB of swap), 8 MiB swapped out
 */
t.test('v1 swap: memsw less memory; swappiness 0 cannot swap more', async (t) => {
  const root = copyFixture(t, 'v1');
  const f = fixture('v1', { root });
  f.write(
    'host/proc/meminfo',
    f.env
      .host('/proc/meminfo')
      .replace(/SwapTotal:.*/, 'SwapTotal:       1048576 kB')
      .replace(/SwapFree:.*/, 'SwapFree:        1048576 kB'),
  );
  const stat = f.files.read(`${root}/cgroup/memory/tsproc-fixture/ctr1/memory.stat`)!;
  f.write(
    'cgroup/memory/tsproc-fixture/ctr1/memory.stat',
    stat.replace(/hierarchical_memsw_limit \d+/, 'hierarchical_memsw_limit 335544320').replace(/total_swap 0/, 'total_swap 8388608'),
  );
  const m = fields(show(f, meminfo));
  t.equal(m.SwapTotal, 65536, '320 MiB memsw less 256 MiB memory');
  t.equal(m.SwapFree, 65536 - 8192);
  f.write('cgroup/memory/tsproc-fixture/ctr1/memory.swappiness', '0\n');
  const z = fields(show(f, meminfo));
  t.equal(z.SwapTotal, 8192, 'swappiness 0: what is out already');
  t.equal(z.SwapFree, 0);
});

/*
 *   tsproc-fixture                  limit 1 GiB
 *   └── ctr1                        no limit of its own (hierarchical: its parent's)
 */
t.test("a limit on an ancestor only; above the host's memory the host's total stands", async (t) => {
  const root = copyFixture(t, 'v1');
  const f = fixture('v1', { root });
  const stat = f.files.read(`${root}/cgroup/memory/tsproc-fixture/ctr1/memory.stat`)!;
  f.write('cgroup/memory/tsproc-fixture/ctr1/memory.limit_in_bytes', '9223372036854771712\n');
  f.write(
    'cgroup/memory/tsproc-fixture/ctr1/memory.stat',
    stat.replace(/hierarchical_memory_limit \d+/, 'hierarchical_memory_limit 1073741824'),
  );
  t.equal(fields(show(f, meminfo)).MemTotal, 1048576);
  f.write(
    'cgroup/memory/tsproc-fixture/ctr1/memory.stat',
    stat.replace(/hierarchical_memory_limit \d+/, 'hierarchical_memory_limit 9223372036854771712'),
  );
  const m = fields(show(f, meminfo));
  t.equal(m.MemTotal, 24684084, "no limit anywhere: the host's total for a container");
  t.equal(m.MemFree, 24684084 - 132736, 'less what the container uses');
});

t.test('a host reader: its own limit if it has one, else the host file as it is', async (t) => {
  const limited = fixture('v1', { scope: 'host' });
  t.equal(fields(show(limited, meminfo)).MemTotal, 262144);
  const host = fixture('v1', { scope: 'host' });
  const root = { ...host.reader, cgroup: { ...host.reader.cgroup, memory: '/' } };
  t.equal(show(host, meminfo, root), 'HOST');
  const v2 = fixture('v2', { scope: 'host' });
  t.equal(show(v2, meminfo, { ...v2.reader, cgroup: { ...v2.reader.cgroup, memory: '/' } }), 'HOST', 'v2 root: no memory.max anywhere');
});

t.test('a usage above the limit shows no free memory, not a negative figure', async (t) => {
  const root = copyFixture(t, 'v2');
  const f = fixture('v2', { root });
  f.write('cgroup/tsproc/ctr1/memory.current', String(300 * 2 ** 20));
  const m = fields(show(f, meminfo));
  t.equal(m.MemFree, 0);
  t.ok(m.MemAvailable! >= 0 && m.MemAvailable! <= m.MemTotal!);
});

t.test('a kernel that orders the lines otherwise, or lacks some: the same figures', async (t) => {
  const f = fixture('v2');
  f.files.beginRender();
  const snap = meminfo.gather(f.env, f.reader) as Parameters<typeof meminfo.render>[0];
  const lines = snap.host.trimEnd().split('\n');
  const shuffled = [...lines.slice(10), ...lines.slice(0, 10)].filter((l) => !l.startsWith('Zswap')).join('\n') + '\n';
  const b = fields(meminfo.render({ ...snap, host: shuffled }));
  for (const [k, v] of Object.entries(V2_FIGURES)) t.equal(b[k], v, k);
  const host = fields(shuffled);
  t.equal(b.CommitLimit, host.CommitLimit, "a line it has no figure for: the host's");
  t.equal(b.Zswap, undefined, 'no line the host has not');
  const labels = (text: string) => text.split('\n').map((l) => l.split(':')[0]);
  t.same(labels(meminfo.render({ ...snap, host: shuffled })), labels(shuffled), "the host's order kept");
});
