// How the daemon shares its open-file limit among the worker threads' files and containers and the load sampler.
import t from 'tap';
import { descriptorBudget } from '../../src/daemon/descriptor-budget.js';

t.test('half the limit for the workers, an eighth for their containers, a fifth for the sampler, within bounds', async (t) => {
  t.same(descriptorBudget(2, 20000), { worker: 4096, containers: 1024, sampler: 4000 });
  t.same(descriptorBudget(16, 20000), { worker: 625, containers: 156, sampler: 4000 });
  t.same(descriptorBudget(16, 1024), { worker: 32, containers: 8, sampler: 204 });
  t.same(descriptorBudget(4, 1 << 20), { worker: 4096, containers: 1024, sampler: 8192 });
});

t.test('everything the daemon may hold stays within the limit, with room to spare', async (t) => {
  for (const limit of [1024, 4096, 20000, 65536, 1 << 20]) {
    for (const threads of [2, 4, 8, 16]) {
      const b = descriptorBudget(threads, limit);
      const held = threads * (b.worker + b.containers) + b.sampler;
      t.ok(held <= limit * 0.85, `${threads} threads, limit ${limit}: ${held} held at most`);
    }
  }
});
