// The workers' side of the load figures: counts on the spot when the sampler has none, kept a second.
import t from 'tap';
import { LoadSource } from '../../../src/daemon/loadavg/source.js';
import type { Reader } from '../../../src/daemon/reader/resolver.js';

const paths = (p: string) => ({ memory: p, cpu: p, cpuacct: p, cpuset: p, io: p, pids: p });
const reader = (p: string): Reader => ({
  scope: 'container',
  key: `ns:${p}`,
  label: p,
  cgroup: paths(p),
  pid: 10,
  start: 100,
  depth: 2,
  valid: true,
});

t.test('without a sampler (--no-loadavg) a count on the spot serves its container for a second', async (t) => {
  let ms = 0;
  const walked: string[] = [];
  const source = new LoadSource({
    driver: { threadsCgroup: (cg) => cg.pids },
    post: () => undefined,
    count: (r) => (walked.push(r.cgroup.cpu), { running: walked.length, blocked: 0, total: 50, lastPid: 50 }),
    clock: () => ms,
  });
  const a = reader('/a');
  t.same(source.sample(a, 1), { avg: [0, 0, 0], running: 2, blocked: 0, total: 50, lastPid: 50 }, 'the count, and the reader running');
  ms = 999;
  t.equal(source.sample(a, 2).running, 2, 'within the second: the same count');
  t.same(walked, ['/a'], "the container's tasks walked once");
  t.equal(source.sample(reader('/b'), 3).running, 3, 'another container: its own count');
  ms = 1000;
  t.equal(source.sample(a, 2).running, 4, 'a second on: counted again');
  t.same(walked, ['/a', '/b', '/a']);
});
