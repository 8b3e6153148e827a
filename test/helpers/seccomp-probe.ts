// test/fixtures/seccomp-probe.c, built static (it runs in a busybox root, which has no libc) once per
// test file into a tsproc-test directory; and the system's own syscall numbers, for expectations.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tempDir } from './runner.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

const SOURCE = fileURLToPath(new URL('../../../test/fixtures/seccomp-probe.c', import.meta.url));
const LIBC_A = '/usr/lib/x86_64-linux-gnu/libc.a';
const UNISTD_64 = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

/** Why the probe cannot be built or used here, or undefined. */
export function cannotProbe(): string | undefined {
  if (process.arch !== 'x64') return 'the probe and the filter are x86-64 only';
  if (spawnSync('cc', ['--version']).status !== 0) return 'no C compiler (cc)';
  if (!existsSync(LIBC_A)) return `no static C library (${LIBC_A}: libc6-dev)`;
  if (!existsSync(UNISTD_64)) return `no kernel headers (${UNISTD_64}: linux-libc-dev)`;
  return undefined;
}

let built: string | undefined;

/** The probe's path (built on first use, removed with the test). */
export function probePath(t: Teardown): string {
  if (built && existsSync(built)) return built;
  const out = `${tempDir(t, 'probe')}/probe`;
  const r = spawnSync('cc', ['-static', '-O2', '-o', out, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build the probe: ${r.stderr}`);
  return (built = out);
}

/** Copy the probe into a root's /bin. */
export function installProbe(t: Teardown, root: string): void {
  copyFileSync(probePath(t), `${root}/bin/probe`);
}

/** The probe on the host: its output. */
export function hostProbe(t: Teardown, args: string[]): { stdout: string; status: number | null; signal: NodeJS.Signals | null } {
  const r = spawnSync(probePath(t), args, { encoding: 'utf8' });
  return { stdout: r.stdout, status: r.status, signal: r.signal };
}

/** key=value fields of `probe sysinfo`. */
export function sysinfoFields(line: string): Record<string, string> {
  return Object.fromEntries(
    line
      .trim()
      .split(' ')
      .map((kv) => kv.split('=') as [string, string]),
  );
}

/** x86-64 syscall numbers by name, from the system's kernel headers (not from tsproc's own table). */
export function headerSyscalls(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(UNISTD_64, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}
