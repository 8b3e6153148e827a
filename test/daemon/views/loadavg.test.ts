// loadavg: the sampler's averages in the kernel's format, runnable/total tasks, the last pid.
import t from 'tap';
import { FIXED_1 } from '../../../src/daemon/loadavg/calc.js';
import { loadavg } from '../../../src/daemon/views/loadavg.js';
import { fixture, show } from '../../helpers/fixtures.js';

t.test('averages, running/total and the highest pid', async (t) => {
  const f = fixture('v1', { load: { avg: [3072, FIXED_1, 0], running: 2, blocked: 1, total: 9, lastPid: 42 } });
  t.equal(show(f, loadavg), '1.50 1.00 0.00 2/9 42\n');
});

t.test('the reader itself is runnable: never 0 running', async (t) => {
  t.equal(loadavg.render({ avg: [0, 0, 0], running: 0, blocked: 0, total: 0, lastPid: 1 }), '0.00 0.00 0.00 1/1 1\n');
});

t.test('host readers and --no-loadavg get the host file', async (t) => {
  t.equal(show(fixture('v1', { scope: 'host' }), loadavg), 'HOST');
  t.equal(show(fixture('v1', { options: { loadavg: false } }), loadavg), 'HOST');
});

t.test("a container whose threads' cgroup is the root counts every host task: the host's file, no walk", async (t) => {
  const f = fixture('v1');
  f.env.load = () => t.fail('no count') as never;
  const whole = { ...f.reader, cgroup: { ...f.reader.cgroup, cpu: '/' } };
  t.equal(show(f, loadavg, whole), 'HOST');
});
