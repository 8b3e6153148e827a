// How the daemon shares its open-file limit among worker threads and the load sampler.
import t from 'tap';
import { descriptorBudget } from '../../src/daemon/mount-daemon.js';

t.test('half the limit for the workers, a fifth for the sampler, within bounds', async (t) => {
  t.same(descriptorBudget(2, 20000), { worker: 4096, sampler: 4000 });
  t.same(descriptorBudget(16, 20000), { worker: 625, sampler: 4000 });
  t.same(descriptorBudget(16, 1024), { worker: 64, sampler: 204 });
  t.same(descriptorBudget(4, 1 << 20), { worker: 4096, sampler: 8192 });
});
