// The exit file's format, written out: what the monitor, settling and a failed set-up write, and what is
// not an exit file (a torn write, a foreign file).
import t from 'tap';
import { formatExitFile, parseExitFile } from '../../runner/exit-file.js';

t.test("the monitor's line, and the notes of those who write it instead", async (t) => {
  t.same(parseExitFile('code 0 0\n'), { how: 'code', value: 0, oomKills: 0 });
  t.same(parseExitFile('code 3 0'), { how: 'code', value: 3, oomKills: 0 }, 'no newline at the end');
  t.same(parseExitFile('signal 9 2\n'), { how: 'signal', value: 9, oomKills: 2 }, 'killed with OOM kills in the cgroup');
  t.same(parseExitFile('signal 9 0\nlost\n'), { how: 'signal', value: 9, oomKills: 0, note: 'monitor lost' });
  t.same(parseExitFile('code 125 0\ninterrupted\n'), { how: 'code', value: 125, oomKills: 0, note: 'set-up interrupted' });
  t.same(parseExitFile('code 127 0\nfailed\n'), { how: 'code', value: 127, oomKills: 0, note: 'set-up failed' });
});

t.test('written as it is read', async (t) => {
  t.equal(formatExitFile({ how: 'code', value: 125, oomKills: 0, note: 'set-up interrupted' }), 'code 125 0\ninterrupted\n');
  t.equal(formatExitFile({ how: 'signal', value: 15, oomKills: 1 }), 'signal 15 1\n');
  for (const e of [
    { how: 'code', value: 1, oomKills: 0 },
    { how: 'signal', value: 9, oomKills: 0, note: 'monitor lost' },
  ] as const) {
    t.same(parseExitFile(formatExitFile(e)), e);
  }
});

t.test('not an exit file: none, rather than a guess', async (t) => {
  for (const text of [
    '',
    '\n',
    'code',
    'code 1',
    'code 1 0 7\n',
    'exit code 1 0\n',
    'code -1 0\n',
    'code 256 0\n',
    'signal 0 0\n',
    'signal 65 0\n',
    'code 01 0\n',
    'code 1 x\n',
    'code 1.5 0\n',
    'code 1 0\nsomething\n',
    'code 1 0\nlost\nmore\n',
    'code 1  0\n',
    'cod',
  ]) {
    t.equal(parseExitFile(text), undefined, JSON.stringify(text));
  }
});
