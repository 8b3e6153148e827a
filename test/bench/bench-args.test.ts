// The bench's command line: --help lists the flags and runs nothing; a flag it does not know, a number
// that is not one, a section that does not exist: one line naming it, exit status 2, nothing measured.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, optionsFromArgv } from '../../bench/index.js';

const BENCH = fileURLToPath(new URL('../../bench/index.js', import.meta.url));

t.test('--help prints the usage and measures nothing', async (t) => {
  const r = spawnSync(process.execPath, [BENCH, '--help'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0);
  t.match(r.stdout, /^usage \(as root\): npm run bench -- \[flags\]\n/);
  for (const flag of ['--quick', '--json', '--only', '--warm', '--rounds', '--batch', '--seconds', '--threads']) t.match(r.stdout, flag);
  t.notMatch(r.stdout, /tsproc bench,/, 'no table: nothing ran');
  t.equal(optionsFromArgv(['--help']), undefined);
});

t.test('bad command lines: one line naming what is wrong, exit 2', async (t) => {
  for (const [args, message] of [
    [['--bogus'], "bench: Unknown option '--bogus' (--help lists the flags)\n"],
    [['--rounds', 'x'], 'bench: --rounds: "x" is not a whole number of at least 1\n'],
    [['--batch', '0'], 'bench: --batch: "0" is not a whole number of at least 1\n'],
    [['--reads', '1.5'], 'bench: --reads: "1.5" is not a whole number of at least 1\n'],
    [['--only', 'latency,first'], 'bench: --only: no section first (latency, throughput, first-read, memory, run)\n'],
    [['--rounds'], "bench: Option '--rounds <value>' argument missing (--help lists the flags)\n"],
  ] as const) {
    const r = spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 30_000 });
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.equal(r.stderr, message, `${args.join(' ')}: the message`);
    t.equal(r.stdout, '', `${args.join(' ')}: nothing measured`);
  }
});

t.test('every bench script checks its numbers before it mounts anything', async (t) => {
  for (const [script, args, message] of [
    ['views-latency', ['--rounds', 'x'], 'bench: --rounds: "x" is not a whole number of at least 1\n'],
    ['first-read', ['--rounds', '0'], 'bench: --rounds: "0" is not a whole number of at least 1\n'],
    ['floor', ['--seconds', '-1'], 'bench: --seconds: "-1" is not a number of at least 0.01\n'],
    ['read-latency', ['--iterations'], 'bench: --iterations: "" is not a whole number of at least 1\n'],
    ['memory', ['--readers', '2.5'], 'bench: --readers: "2.5" is not a whole number of at least 1\n'],
    ['read-latency', ['--threads', '1.5'], 'bench: --threads: "1.5" is not a whole number of at least 0\n'],
  ] as const) {
    const path = fileURLToPath(new URL(`../../bench/${script}.js`, import.meta.url));
    const r = spawnSync(process.execPath, [path, ...args], { encoding: 'utf8', timeout: 30_000 });
    t.equal(r.status, 2, `${script} ${args.join(' ')}: exit 2`);
    t.equal(r.stderr, message, `${script}: the message`);
    t.equal(r.stdout, '', `${script}: nothing measured`);
  }
});

t.test('flags over the defaults, and over --quick', async (t) => {
  t.same(optionsFromArgv([]), DEFAULT_OPTIONS);
  t.same(optionsFromArgv(['--quick', '--rounds', '7']), { ...QUICK_OPTIONS, rounds: 7 });
  t.same(optionsFromArgv(['--only', 'latency,run', '--seconds', '0.5', '--threads', '0', '--json']), {
    ...DEFAULT_OPTIONS,
    sections: ['latency', 'run'],
    seconds: 0.5,
    threads: 0,
  });
});
