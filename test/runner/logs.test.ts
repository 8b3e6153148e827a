// The log's records, and following a log across a rotation (files written here, no container).
import t from 'tap';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { followLog, parseRecord, readLog, type LogRecord } from '../../runner/logs.js';
import { waitFor } from '../helpers/daemon.js';

t.test('records: stream, time, text; lower case continues without a newline', async (t) => {
  t.same(parseRecord('O 2026-01-01T00:00:00.000000001Z hello world'), {
    stream: 'stdout',
    time: '2026-01-01T00:00:00.000000001Z',
    text: 'hello world\n',
  });
  t.same(
    parseRecord('E 2026-01-01T00:00:00.000000001Z '),
    { stream: 'stderr', time: '2026-01-01T00:00:00.000000001Z', text: '\n' },
    'an empty line',
  );
  t.same(parseRecord('o 2026-01-01T00:00:00.000000001Z no newline'), {
    stream: 'stdout',
    time: '2026-01-01T00:00:00.000000001Z',
    text: 'no newline',
  });
  t.equal(parseRecord('X garbage'), undefined);
});

t.test('readLog reads the rotated file first; followLog follows a rotation to the end', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-logs-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = `${dir}/container.log`;
  const rec = (n: number) => `O 2026-01-01T00:00:00.000000000Z line ${n}\n`;
  writeFileSync(`${log}.1`, rec(1));
  writeFileSync(log, rec(2));
  t.same(
    readLog(log).map((r) => r.text),
    ['line 1\n', 'line 2\n'],
  );
  const seen: LogRecord[] = [];
  let ended = false;
  const following = followLog(
    log,
    (r) => seen.push(r),
    () => ended,
  );
  // followLog runs on this thread: while this code runs, it waits in its sleep between two looks
  await waitFor(() => seen.at(-1)?.text === 'line 2\n', 'it has read both files');
  appendFileSync(log, rec(3));
  renameSync(log, `${log}.1`); // rotation
  writeFileSync(log, rec(4));
  await waitFor(() => seen.at(-1)?.text === 'line 4\n', 'it has followed the rotation to the new file');
  appendFileSync(log, rec(5));
  ended = true;
  await following;
  t.same(
    seen.map((r) => r.text),
    ['line 1\n', 'line 2\n', 'line 3\n', 'line 4\n', 'line 5\n'],
    'each line once, in order',
  );
});

t.test('followLog: two rotations between two looks lose nothing', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-logs-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = `${dir}/container.log`;
  const rec = (n: number) => `O 2026-01-01T00:00:00.000000000Z line ${n}\n`;
  writeFileSync(log, rec(1));
  const seen: string[] = [];
  let ended = false;
  const following = followLog(
    log,
    (r) => seen.push(r.text),
    () => ended,
  );
  // followLog runs on this thread: once it has read line 1, it sleeps while this code runs
  await waitFor(() => seen.at(-1) === 'line 1\n', 'it has read line 1');
  // as the monitor does past its cap: close, rename to LOG.1 (over the older one), open a new one
  appendFileSync(log, rec(2));
  renameSync(log, `${log}.1`);
  writeFileSync(log, rec(3));
  renameSync(log, `${log}.1`); // the file with line 2 is gone from the directory now
  writeFileSync(log, rec(4));
  await waitFor(() => seen.at(-1) === 'line 4\n', 'it has followed both rotations to the new file');
  appendFileSync(log, rec(5));
  ended = true;
  await following;
  t.same(seen, ['line 1\n', 'line 2\n', 'line 3\n', 'line 4\n', 'line 5\n'], 'each line once, in order');
});

t.test('followLog: a log rotated just before it starts is read once', async (t) => {
  const dir = mkdtempSync('/tmp/tsproc-test-logs-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = `${dir}/container.log`;
  writeFileSync(`${log}.1`, 'O 2026-01-01T00:00:00.000000000Z line 1\n');
  const seen: string[] = [];
  await followLog(
    log,
    (r) => seen.push(r.text),
    () => true,
  ); // no current file yet: the monitor is between rename and open
  t.same(seen, ['line 1\n']);
});
