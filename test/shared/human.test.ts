// Durations and sizes in docker's words (go-units HumanDuration, HumanSizeWithPrecision), written out.
import t from 'tap';
import { humanBytes, humanDuration, humanSize } from '../../src/human.js';

const s = 1000;
const min = 60 * s;
const h = 60 * min;
const day = 24 * h;

t.test("durations as docker's ps and images print them", async (t) => {
  const cases: Array<[number, string]> = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * min, '2 minutes'],
    [59 * min, '59 minutes'],
    [60 * min, 'About an hour'],
    [89 * min, 'About an hour'],
    [90 * min, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * day, '13 days'],
    [14 * day, '2 weeks'],
    [59 * day, '8 weeks'],
    [60 * day, '2 months'],
    [729 * day, '24 months'],
    [730 * day, '2 years'],
    [-5 * s, 'Less than a second'],
  ];
  for (const [ms, words] of cases) t.equal(humanDuration(ms), words, `${ms} ms`);
  t.equal(humanDuration(NaN), 'unknown');
});

t.test('sizes: decimal for images, binary for memory', async (t) => {
  t.equal(humanSize(0), '0B');
  t.equal(humanSize(999), '999B');
  t.equal(humanSize(1_980_000), '1.98MB');
  t.equal(humanSize(5_400_000_000), '5.40GB');
  t.equal(humanBytes(512), '512B');
  t.equal(humanBytes(1536 * 1024), '1.50MiB');
  t.equal(humanBytes(300 * 1024 * 1024), '300.0MiB');
});
