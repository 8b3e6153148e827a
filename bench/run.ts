// `tsproc run --rootfs DIR true` against Debian's `runc run` on the same busybox root, interleaved in
// the same run; prints each one's median and mean wall time and the ratios. Needs root.
//   node dist/bench/run.js [ROUNDS]    (default 30)
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostLayout } from '../src/cgroup-layout.js';
import { planCgroup } from '../runner/cgroup/cgroup-plan.js';

const BIN = fileURLToPath(new URL('../../bin/tsproc.js', import.meta.url));
const rounds = Number(process.argv[2] ?? 30);
const work = mkdtempSync('/tmp/tsproc-test-bench-');
const parent = `tsproc-test-bench-${process.pid}`;

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

function time(cmd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

try {
  const root = `${work}/rootfs`;
  busyboxRoot(root);
  runcBundle(`${work}/bundle`, root);
  const tsproc: number[] = [];
  const runc: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < rounds + 2; i++) {
    // interleaved, so both see the same machine; the first two rounds warm caches and are dropped
    const a = time(process.execPath, [BIN, '--state-root', `${work}/state`, 'run', '--cgroup-parent', parent, '--rootfs', root, 'true']);
    const b = time('runc', ['--root', `${work}/runc`, 'run', '-b', `${work}/bundle`, `tsproc-test-bench-${process.pid}-${i}`]);
    const c = time(process.execPath, ['-e', '']);
    if (i >= 2) {
      tsproc.push(a);
      runc.push(b);
      node.push(c);
    }
  }
  const row = (name: string, xs: number[]) => `${name.padEnd(28)} ${median(xs).toFixed(1).padStart(8)} ${mean(xs).toFixed(1).padStart(8)}`;
  console.log(`${rounds} runs each, interleaved, wall time in ms (the CLI's start-up included)`);
  console.log(`${'command'.padEnd(28)} ${'median'.padStart(8)} ${'mean'.padStart(8)}`);
  console.log(row('tsproc run --rootfs DIR true', tsproc));
  console.log(row('runc run (same root)', runc));
  console.log(row("node -e '' (Node's start-up)", node));
  console.log(`ratio tsproc/runc: median ${(median(tsproc) / median(runc)).toFixed(2)}, mean ${(mean(tsproc) / mean(runc)).toFixed(2)}`);
  console.log(`ratio (tsproc less Node's start-up)/runc: median ${((median(tsproc) - median(node)) / median(runc)).toFixed(2)}`);
} finally {
  for (const h of planCgroup(hostLayout(), parent, 'x').hierarchies) if (existsSync(`${h.mountpoint}/${parent}`)) rmdirSync(`${h.mountpoint}/${parent}`);
  for (const d of existsSync(`${work}/runc`) ? readdirSync(`${work}/runc`) : []) spawnSync('runc', ['--root', `${work}/runc`, 'delete', '-f', d]);
  rmSync(work, { recursive: true, force: true });
}
