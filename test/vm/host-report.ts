// Has tap, on the host, report on the TAP the guest's test files wrote: its full report and its
// usual summary line `# { total: N, pass: P, fail: F }`, which .ci/run counts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GuestFile } from './guest-output.js';

/** Why a file failed outside its own TAP. */
export function verdict(f: GuestFile): string {
  return f.exitCode === undefined ? 'cut off: the guest stopped before this file ended' : `exited ${f.exitCode}`;
}

/**
 * Returns tap's exit status. A file that did not exit 0 gets a failing test point after its TAP: tap
 * counts it where the TAP was cut short (no plan yet), and ignores it after a complete plan (the
 * harness then fails the run on the exit status alone).
 * The .tap files live in the checkout's .tap/vm-PID/ (gitignored) while tap reads them.
 */
export function reportOnHost(root: string, files: GuestFile[]): number {
  const rel = `.tap/vm-${process.pid}`; // unique: another run may share the checkout
  const dir = join(root, rel);
  rmSync(dir, { recursive: true, force: true });
  try {
    const paths = files.map((f) => {
      // tap names a raw TAP file by its path less .tap: .tap/vm-PID/dist/test/integration/mount.test.js
      const path = join(rel, `${f.file}.tap`);
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), f.exitCode === 0 ? f.tap : `${f.tap}\nnot ok - ${verdict(f)}\n`);
      return path;
    });
    const r = spawnSync(process.execPath, [join(root, 'node_modules/.bin/tap'), '--reporter=tap', ...paths], {
      cwd: root,
      stdio: 'inherit',
    });
    return r.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
