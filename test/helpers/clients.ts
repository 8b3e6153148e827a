// For tests with other runtimes (runc, docker): `tsproc mounts` as they would run it, the figures procps
// and Node print, and the tsproc-test cgroups a runtime makes (found in every hierarchy, removed after).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { NODE_BIN } from './runner.js';

/** `tsproc mounts --format FORMAT DIR`'s output; throws with its stderr if it fails. */
export function tsprocMounts(format: 'oci' | 'docker' | 'k8s', dir: string): string {
  const r = spawnSync(NODE_BIN[0]!, [...NODE_BIN.slice(1), 'mounts', '--format', format, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsproc mounts --format ${format} ${dir}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A shell script printing free, top's summary, the CPUs of cpuinfo and cpu/online, parted by `---` (read by `figures`). */
export const FIGURES_SCRIPT =
  'free -b; echo ---; top -bn1 | head -5; echo ---; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online';

/** What FIGURES_SCRIPT printed: free's total (bytes), top's MiB total (as printed), CPUs. */
export function figures(out: string): {
  free: number;
  top: string | undefined;
  processors: string | undefined;
  online: string | undefined;
} {
  const [free = '', top = '', cpus = ''] = out.split('---\n');
  const [processors, online] = cpus.trim().split('\n');
  return { free: Number(/^Mem:\s+([0-9]+)/m.exec(free)?.[1]), top: /MiB Mem :\s+([0-9.]+) total/.exec(top)?.[1], processors, online };
}

interface Assert {
  equal(found: unknown, wanted: unknown, message: string): void;
}

/** FIGURES_SCRIPT's output in a container with `memory` bytes and one CPU's quota (on CPU 0 of a 2-CPU host or more). */
export function checkFigures(t: Assert, ran: { status: number | null; stdout: string; stderr: string }, memory: number): void {
  t.equal(ran.status, 0, ran.stderr);
  const f = figures(ran.stdout);
  t.equal(f.free, memory, `free -b: ${memory / 2 ** 20} MiB`);
  t.equal(f.top, (memory / 2 ** 20).toFixed(1), `top: ${(memory / 2 ** 20).toFixed(1)} MiB`);
  t.equal(f.processors, '1', '/proc/cpuinfo: one CPU');
  t.equal(f.online, '0', '/sys/devices/system/cpu/online: CPU 0');
}

/** The host's MemTotal in bytes. */
export function hostMemTotal(): number {
  return Number(/^MemTotal:\s+([0-9]+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
}

/** Every cgroup hierarchy's mountpoint (v1's, v2's, or both on a hybrid host). */
function hierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => ['cgroup', 'cgroup2'].includes(f[f.indexOf('-') + 1] ?? ''))
    .map((f) => f[4]!);
}

/** The cgroup directories named `name` (a tsproc-test parent) and below it, deepest first. */
export function cgroupsNamed(name: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(`${dir}/${e.name}`);
    out.push(dir);
  };
  for (const h of hierarchies()) if (existsSync(`${h}/${name}`)) walk(`${h}/${name}`);
  return out;
}

/** Remove the cgroups named `name` (and below), once their tasks have left (EBUSY is retried for a while). */
export async function removeCgroups(name: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (const dir of cgroupsNamed(name)) {
    for (;;) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/** Mounts whose line in mountinfo holds `text`. */
export function mountsWith(text: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(text));
}
