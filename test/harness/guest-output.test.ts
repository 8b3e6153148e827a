// The VM harness's splitting of the guest's output into each test file's TAP (test/vm/guest-output.ts);
// on the host, since test/vm/ itself is only run inside the VM.
import t from 'tap';
import { GuestOutput } from '../vm/guest-output.js';

const collect = () => {
  let shown = '';
  const out = new GuestOutput((text) => (shown += text));
  return { out, shown: () => shown };
};

t.test('files between markers, split across chunks anywhere; progress shows markers and top-level results', async (t) => {
  const { out, shown } = collect();
  const stream = [
    'job starting\n',
    'tsproc-vm: begin dist/a.test.js\n',
    'TAP version 14\n# Subtest: one\n    ok 1 - inner\n    1..1\nok 1 - one # time=5ms\n1..1\n# { total: 2, pass: 2 }\n',
    '\ntsproc-vm: end 0 dist/a.test.js\n',
    'tsproc-vm: begin dist/b.test.js\n',
    'TAP version 14\nnot ok 1 - two\n1..1\n',
    '\ntsproc-vm: end 1 dist/b.test.js\n',
  ].join('');
  const bytes = Buffer.from(stream);
  for (let i = 0; i < bytes.length; i += 7) out.push(bytes.subarray(i, i + 7));
  out.end();

  t.same(
    out.files.map((f) => [f.file, f.exitCode]),
    [
      ['dist/a.test.js', 0],
      ['dist/b.test.js', 1],
    ],
  );
  t.equal(
    out.files[0]!.tap,
    'TAP version 14\n# Subtest: one\n    ok 1 - inner\n    1..1\nok 1 - one # time=5ms\n1..1\n# { total: 2, pass: 2 }\n\n',
  );
  t.equal(out.files[1]!.tap, 'TAP version 14\nnot ok 1 - two\n1..1\n\n');
  t.equal(
    shown(),
    [
      'job starting',
      'tsproc-vm: begin dist/a.test.js',
      '    ok 1 - one # time=5ms',
      'tsproc-vm: end 0 dist/a.test.js',
      'tsproc-vm: begin dist/b.test.js',
      '    not ok 1 - two',
      'tsproc-vm: end 1 dist/b.test.js',
      '',
    ].join('\n'),
    "a file's own summary line is never shown at the start of a line (.ci/run counts only tap's last one)",
  );
});

t.test('a file the guest never finished has no exit status and keeps what it wrote', async (t) => {
  const { out } = collect();
  out.push(Buffer.from('tsproc-vm: begin dist/a.test.js\nTAP version 14\nok 1 - one\nnot ok 2 - cut'));
  out.end();
  t.equal(out.files.length, 1);
  t.equal(out.files[0]!.exitCode, undefined);
  t.equal(out.files[0]!.tap, 'TAP version 14\nok 1 - one\nnot ok 2 - cut\n');
});

t.test('a multi-byte character split between chunks survives', async (t) => {
  const { out } = collect();
  const bytes = Buffer.from('tsproc-vm: begin x.js\nok 1 - café\n');
  const cut = bytes.indexOf(0xa9); // the second byte of é
  out.push(bytes.subarray(0, cut));
  out.push(bytes.subarray(cut));
  out.end();
  t.equal(out.files[0]!.tap, 'ok 1 - café\n');
});

t.test('an end marker for another file than the current one is TAP, not a marker', async (t) => {
  const { out } = collect();
  out.push(Buffer.from('tsproc-vm: begin a.js\ntsproc-vm: end 0 b.js\nok 1\n\ntsproc-vm: end 0 a.js\n'));
  t.equal(out.files[0]!.exitCode, 0);
  t.equal(out.files[0]!.tap, 'tsproc-vm: end 0 b.js\nok 1\n\n');
});
