// What a sysinfo(2) call costs in a `tsproc run --lxcfs` container (answered by its monitor through
// seccomp user notification) against one on the host, and in a container without --lxcfs (the
// default profile's filter only). Interleaved rounds, each a static probe timing N calls in a row
// (most answered from the monitor's 100 ms cache) and K calls 150 ms apart (each a fresh read of the
// container's /proc files). Needs root and a C compiler with a static libc.
//   node dist/bench/sysinfo-cost.js [ROUNDS] [N]    (default 7 rounds, 20000 calls)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostLayout } from '../src/cgroup-layout.js';
import { planCgroup } from '../runner/cgroup/cgroup-plan.js';

const BIN = fileURLToPath(new URL('../../bin/tsproc.js', import.meta.url));
const PROBE = fileURLToPath(new URL('../../test/fixtures/seccomp-probe.c', import.meta.url));
const rounds = Number(process.argv[2] ?? 7);
const calls = Number(process.argv[3] ?? 20000);
const SPACED = 10;
const work = mkdtempSync('/tmp/tsproc-test-bench-sysinfo-');
chmodSync(work, 0o755);
const parent = `tsproc-test-bench-sysinfo-${process.pid}`;
const mnt = `${work}/mnt`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** ns per call, from the probe's `ns_per_call=X` */
const perCall = (out: string) => Number(/ns_per_call=([0-9.]+)/.exec(out)?.[1]);

function inContainer(extra: string[], args: string[]): number {
  return perCall(
    sh(process.execPath, [
      '--',
      BIN,
      '--state-root',
      `${work}/state`,
      '--data-root',
      `${work}/data`,
      'run',
      '--rm',
      '--cgroup-parent',
      parent,
      '--rootfs',
      `${work}/root`,
      ...extra,
      'probe',
      ...args,
    ]),
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (mounts FUSE, runs containers)');
  const root = `${work}/root`;
  mkdirSync(`${root}/bin`, { recursive: true });
  copyFileSync('/bin/busybox', `${root}/bin/busybox`);
  symlinkSync('busybox', `${root}/bin/sh`);
  sh('cc', ['-static', '-O2', '-o', `${root}/bin/probe`, PROBE]);
  mkdirSync(mnt);
  const daemon = spawn(process.execPath, ['--', BIN, 'mount', mnt], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (const end = Date.now() + 30000; spawnSync('cat', [`${mnt}/proc/meminfo`], { timeout: 2000 }).status !== 0;) {
      if (Date.now() > end) throw new Error('the daemon did not mount');
      await new Promise((r) => setTimeout(r, 100));
    }
    const lxcfs = ['--lxcfs-root', mnt, '-m', '256m'];
    const rows: Record<string, number[]> = { host: [], filter: [], lxcfs: [], 'host, spaced': [], 'lxcfs, spaced': [] };
    for (let i = 0; i < rounds + 1; i++) {
      // interleaved, so that each sees the same machine; the first round warms up and is dropped
      const r = {
        host: perCall(sh(`${root}/bin/probe`, ['bench', String(calls)])),
        filter: inContainer(['-m', '256m'], ['bench', String(calls)]),
        lxcfs: inContainer(lxcfs, ['bench', String(calls)]),
        'host, spaced': perCall(sh(`${root}/bin/probe`, ['bench', String(SPACED), '150'])),
        'lxcfs, spaced': inContainer(lxcfs, ['bench', String(SPACED), '150']),
      };
      if (i > 0) for (const [k, v] of Object.entries(r)) rows[k]!.push(v);
    }
    const us = (ns: number) => (ns / 1000).toFixed(2).padStart(9);
    console.log(`${rounds} rounds, interleaved; the median of each, in microseconds per sysinfo call`);
    console.log(`  host                                  ${us(median(rows.host!))}`);
    console.log(`  container, default profile only       ${us(median(rows.filter!))}`);
    console.log(`  container, --lxcfs (${calls} in a row)   ${us(median(rows.lxcfs!))}`);
    console.log(`  host, 150 ms apart                    ${us(median(rows['host, spaced']!))}`);
    console.log(`  container, --lxcfs, 150 ms apart      ${us(median(rows['lxcfs, spaced']!))}`);
    console.log(
      `ratio --lxcfs / host: ${(median(rows.lxcfs!) / median(rows.host!)).toFixed(1)} in a row, ${(median(rows['lxcfs, spaced']!) / median(rows['host, spaced']!)).toFixed(1)} 150 ms apart`,
    );
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    if (existsSync(mnt)) spawnSync('umount', ['-l', mnt]);
    for (const h of planCgroup(hostLayout(), parent, 'x').hierarchies) {
      const dir = `${h.mountpoint}/${parent}`;
      for (const d of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()) : [])
        rmdirSync(`${dir}/${d.name}`);
      if (existsSync(dir)) rmdirSync(dir);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`sysinfo-cost: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
