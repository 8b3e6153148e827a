// The one CPU-list parser: the kernel's lists and docker's --cpuset-cpus, and the ranges it writes back.
import t from 'tap';
import { cpuNumbers, cpuRanges, formatCpuList } from '../../src/cpu-list.js';

t.test('lists as the kernel writes them', async (t) => {
  t.same(cpuNumbers('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  t.same(cpuNumbers('5'), [5]);
  t.same(cpuNumbers(''), [], 'an empty cpuset');
  t.same(cpuNumbers('\n'), []);
  t.same(cpuNumbers('3,1-2,2'), [1, 2, 3], 'sorted, each once');
  t.same(cpuNumbers(' 0 - 1'), undefined, 'no spaces inside a range');
  t.same(
    cpuRanges('0-1, 4'),
    [
      { lo: 0, hi: 1, text: '0-1' },
      { lo: 4, hi: 4, text: '4' },
    ],
    'spaces around parts, as docker takes them',
  );
});

t.test('not a list: why, by name', async (t) => {
  t.equal(cpuRanges('one'), 'wants a CPU list such as 0-2,4');
  t.equal(cpuRanges('0-1,'), 'wants a CPU list such as 0-2,4', 'an empty part');
  t.equal(cpuRanges('3-1'), 'wants ranges from low to high (3-1)');
  t.equal(cpuRanges('0-99999999'), 'a range of more than 65536 CPUs (0-99999999)', 'no loop over a billion CPUs');
  t.equal(cpuNumbers('-1'), undefined);
});

t.test('written back as ranges', async (t) => {
  t.equal(formatCpuList([0, 1, 2, 3, 8, 10, 11]), '0-3,8,10-11');
  t.equal(formatCpuList([1, 0]), '0-1');
  t.equal(formatCpuList([4]), '4');
  t.equal(formatCpuList([]), '');
  t.same(cpuNumbers(formatCpuList([7, 2, 3, 9])), [2, 3, 7, 9], 'round trip');
});
