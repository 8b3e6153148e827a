// A content module for fs/ tests (see ContentModule in fs/worker.ts): `slow`, whose render waits while
// the marker file exists (a render stuck on the kernel, as a read of a locked /proc file would be;
// it writes `started` first), and `fast`, rendered at once. It never tells the worker it is slow:
// only the watchdog can hand the turn on.
import { existsSync, writeFileSync } from 'node:fs';
import type { FileSpec } from '../../fs/tree/virtual-tree.js';

const nap = new Int32Array(new SharedArrayBuffer(4));

export function createFiles(options: unknown): FileSpec[] {
  const { marker, started } = options as { marker: string; started: string };
  return [
    {
      path: 'slow',
      render: () => {
        writeFileSync(started, '');
        // at most a minute: a failing test still ends
        for (let i = 0; i < 6000 && existsSync(marker); i++) Atomics.wait(nap, 0, 0, 10);
        return 'slow\n';
      },
    },
    { path: 'fast', render: () => 'fast\n' },
  ];
}
