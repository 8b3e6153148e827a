// A content module for fs/ tests (see ContentModule in fs/worker.ts): one file, `hog`, whose render
// exhausts the worker's heap once (while the marker file exists, which the render removes first), as an
// isolate ended at its heap limit or a crashed worker would, and reads `fine` afterwards.
import { existsSync, unlinkSync } from 'node:fs';
import type { FileSpec } from '../../fs/tree/virtual-tree.js';

export function createFiles(options: unknown): FileSpec[] {
  const { marker } = options as { marker: string };
  return [
    {
      path: 'hog',
      render: () => {
        if (existsSync(marker)) {
          unlinkSync(marker);
          const kept: number[][] = [];
          for (;;) kept.push(new Array<number>(1 << 20).fill(kept.length));
        }
        return 'fine\n';
      },
    },
  ];
}
