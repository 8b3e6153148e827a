// The cgroup file formats: keyed lists, limits, CPU lists, cpu.max, io.stat, blkio, id lists.
import t from 'tap';
import { ParseError } from '../../../src/daemon/cgroup/errors.js';
import {
  parseBlkio,
  parseCount,
  parseCpuList,
  parseCpuMax,
  parseIdList,
  parseIoStat,
  parseKeyed,
  parseLimit,
} from '../../../src/daemon/cgroup/parse.js';

t.test('limits: bytes, max, v1 unlimited, -1', async (t) => {
  t.equal(parseLimit('268435456\n', 'x'), 268435456);
  t.equal(parseLimit('max\n', 'x'), Infinity);
  t.equal(parseLimit('9223372036854771712\n', 'x'), Infinity, "v1's PAGE_COUNTER_MAX");
  t.equal(parseLimit('-1', 'x'), Infinity);
  t.throws(() => parseLimit('12abc', 'memory.max'), ParseError);
  t.throws(() => parseCount('', 'memory.current'), /cannot parse memory.current/);
});

t.test('keyed files', async (t) => {
  t.same(parseKeyed('anon 116690944\nfile 55128064\nbad line\nnr x\n'), { anon: 116690944, file: 55128064 });
  t.same(parseKeyed(''), {});
});

t.test('CPU lists', async (t) => {
  t.same(parseCpuList('0\n'), [0]);
  t.same(parseCpuList('0-3,8,10-11'), [0, 1, 2, 3, 8, 10, 11]);
  t.same(parseCpuList('5,1-2'), [1, 2, 5], 'sorted');
  t.same(parseCpuList('\n'), []);
  t.throws(() => parseCpuList('3-1'), ParseError);
  t.throws(() => parseCpuList('a'), ParseError);
});

t.test('cpu.max as CPUs', async (t) => {
  t.equal(parseCpuMax('50000 100000\n'), 0.5);
  t.equal(parseCpuMax('150000 100000'), 1.5);
  t.equal(parseCpuMax('max 100000\n'), Infinity);
  t.throws(() => parseCpuMax('1 0'), ParseError);
});

t.test('io.stat and blkio into the same counters', async (t) => {
  const v2 = parseIoStat(
    '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=1024 dios=1\n',
  );
  t.same(v2.get('254:0'), { rbytes: 4096, wbytes: 8192, rios: 1, wios: 2, dbytes: 0, dios: 0 });
  t.same(v2.get('8:0'), { rbytes: 512, wbytes: 0, rios: 1, wios: 0, dbytes: 1024, dios: 1 });
  t.equal(parseIoStat('').size, 0, 'an empty io.stat (no I/O yet)');
  const v1 = parseBlkio(
    '254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 0\n254:0 Async 12288\n254:0 Discard 0\n254:0 Total 12288\nTotal 12288\n',
    '254:0 Read 1\n254:0 Write 2\n254:0 Total 3\nTotal 3\n',
  );
  t.same(v1.get('254:0'), v2.get('254:0'), 'v1 counters read as v2 ones');
  t.equal(parseBlkio('Total 0\n', 'Total 0\n').size, 0);
});

t.test('id lists', async (t) => {
  t.same(parseIdList('139\n144\n145\n'), [139, 144, 145]);
  t.same(parseIdList(''), []);
});
