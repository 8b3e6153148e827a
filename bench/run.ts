// `tsproc run --rm --rootfs DIR true` against `node -e 0` (Node's own start-up) and Debian's `runc run` on
// the same busybox root, interleaved in the same loop so that all see the same machine; prints each one's
// median and mean wall time and the ratios issue 13 sets its target in (tsproc/node <= 1.6). Needs root.
//   node dist/bench/run.js [ROUNDS] [--compare BIN]    (ROUNDS: 30)
// --compare BIN times another checkout's bin in the same loop (before/after a change).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostLayout } from '../src/cgroup-layout.js';
import { planCgroup } from '../runner/cgroup/cgroup-plan.js';
import { isMain, loadAverage, median } from './mounts.js';

const BIN = fileURLToPath(new URL('../../bin/tsproc.js', import.meta.url));

function busyboxRoot(dir: string): void {
  mkdirSync(`${dir}/bin`, { recursive: true });
  copyFileSync('/bin/busybox', `${dir}/bin/busybox`);
  chmodSync(`${dir}/bin/busybox`, 0o755);
  for (const a of ['sh', 'true']) symlinkSync('busybox', `${dir}/bin/${a}`);
}

/** An OCI bundle around the same root: runc's own default spec, not a terminal, `true`. */
function runcBundle(bundle: string, root: string): void {
  mkdirSync(bundle);
  spawnSync('runc', ['spec', '-b', bundle]);
  const spec = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8'));
  spec.root = { path: root, readonly: false };
  spec.process.terminal = false;
  spec.process.args = ['true'];
  writeFileSync(`${bundle}/config.json`, JSON.stringify(spec));
}

/** Wall time of one run in ms, as a user waits for it (the bin is started as a program: sh, then node). */
function time(cmd: string, argv: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Wall times (ms) of each command of the loop, the first two rounds dropped; the load average around it. */
export interface StartupTimes {
  rows: { name: string; times: number[] }[];
  before: string;
  after: string;
}

/**
 * `rounds` rounds (after two warm-up rounds) of, interleaved: `tsproc run --rm --rootfs DIR true`,
 * `compare`'s bin the same way when given, `node -e 0` and `runc run` on the same root.
 */
export function runStartup(rounds: number, compare?: string): StartupTimes {
  const work = mkdtempSync('/tmp/tsproc-test-bench-');
  const parent = `tsproc-test-bench-${process.pid}`;
  try {
    const root = `${work}/rootfs`;
    busyboxRoot(root);
    runcBundle(`${work}/bundle`, root);
    let n = 0; // runc's container names
    const tsprocArgs = [
      '--state-root',
      `${work}/state`,
      '--data-root',
      `${work}/data`,
      'run',
      '--rm',
      '--cgroup-parent',
      parent,
      '--rootfs',
      root,
      'true',
    ];
    const rows: [string, () => number][] = [
      ['tsproc run --rm --rootfs DIR true', () => time(BIN, tsprocArgs)],
      ...(compare
        ? [[`--compare (${compare.split('/').slice(-3).join('/')})`, () => time(compare, tsprocArgs)] as [string, () => number]]
        : []),
      ['node -e 0', () => time(process.execPath, ['-e', '0'])],
      [
        'runc run (same root)',
        () => time('runc', ['--root', `${work}/runc`, 'run', '-b', `${work}/bundle`, `tsproc-test-bench-${process.pid}-${n++}`]),
      ],
    ];
    const times = rows.map(() => [] as number[]);
    const before = loadAverage();
    for (let i = 0; i < rounds + 2; i++) {
      // interleaved, so all see the same machine; the first two rounds warm caches and are dropped
      rows.forEach(([, run], k) => {
        const ms = run();
        if (i >= 2) times[k]!.push(ms);
      });
    }
    return { rows: rows.map(([name], k) => ({ name, times: times[k]! })), before, after: loadAverage() };
  } finally {
    for (const h of planCgroup(hostLayout(), parent, 'x').hierarchies)
      if (existsSync(`${h.mountpoint}/${parent}`)) rmdirSync(`${h.mountpoint}/${parent}`);
    for (const d of existsSync(`${work}/runc`) ? readdirSync(`${work}/runc`) : [])
      spawnSync('runc', ['--root', `${work}/runc`, 'delete', '-f', d]);
    rmSync(work, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const c = args.indexOf('--compare');
  const compare = c >= 0 ? args.splice(c, 2)[1] : undefined;
  const rounds = Number(args[0] ?? 30);
  const { rows, before, after } = runStartup(rounds, compare);
  const times = rows.map((r) => r.times);
  console.log(`${rounds} rounds, interleaved, wall time in ms (start-up included); load average ${before} before, ${after} after`);
  console.log(`${'command'.padEnd(44)} ${'median'.padStart(8)} ${'mean'.padStart(8)} ${'min'.padStart(8)}`);
  rows.forEach(({ name }, k) =>
    console.log(
      `${name.padEnd(44)} ${median(times[k]!).toFixed(1).padStart(8)} ${mean(times[k]!).toFixed(1).padStart(8)} ${Math.min(...times[k]!)
        .toFixed(1)
        .padStart(8)}`,
    ),
  );
  const [ts, node, runc] = [times[0]!, times[rows.length - 2]!, times[rows.length - 1]!];
  const ratio = (a: number[], b: number[]) => `median ${(median(a) / median(b)).toFixed(2)}, mean ${(mean(a) / mean(b)).toFixed(2)}`;
  console.log(`tsproc / node -e 0: ${ratio(ts, node)} (issue 13's target: <= 1.6)`);
  console.log(`tsproc / runc run:  ${ratio(ts, runc)}`);
  if (compare) console.log(`--compare / node -e 0: ${ratio(times[1]!, node)}; --compare / runc run: ${ratio(times[1]!, runc)}`);
  console.log(`tsproc less node -e 0, over runc run: median ${((median(ts) - median(node)) / median(runc)).toFixed(2)}`);
}
