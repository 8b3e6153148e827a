// The kernel's load average arithmetic and its printing.
import t from 'tap';
import { EXP, FIXED_1, calcLoad, formatLoad, stepLoads } from '../../../src/daemon/loadavg/calc.js';

t.test('one running task for a minute moves the 1-minute average to 1 - 1/e', async (t) => {
  let avg: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 12; i++) avg = stepLoads(avg, 1);
  t.equal(formatLoad(avg[0]), '0.63');
  t.equal(formatLoad(avg[1]), '0.18');
  t.equal(formatLoad(avg[2]), '0.06');
  for (let i = 0; i < 12 * 30; i++) avg = stepLoads(avg, 1);
  t.equal(formatLoad(avg[0]), '1.00', 'settles at the task count');
  t.equal(formatLoad(avg[2]), '0.91', '1 - 1/e^(31/15), rounded up as the kernel does while rising');
  for (let i = 0; i < 12 * 10; i++) avg = stepLoads(avg, 0);
  t.equal(formatLoad(avg[0]), '0.00', 'and decays back');
});

t.test("rounding as the kernel's calc_load and LOAD_FRAC", async (t) => {
  t.equal(calcLoad(0, EXP[0], 1), Math.floor((FIXED_1 * (FIXED_1 - EXP[0]) + FIXED_1 - 1) / FIXED_1));
  t.equal(calcLoad(FIXED_1, EXP[0], 0), Math.floor((FIXED_1 * EXP[0]) / FIXED_1));
  t.equal(formatLoad(0), '0.00');
  t.equal(formatLoad(FIXED_1 * 12 + FIXED_1 / 2), '12.50');
  t.equal(formatLoad(10), '0.00', 'below half a hundredth');
  t.equal(formatLoad(11), '0.01');
});
