// The content module each FUSE worker loads: the daemon's files as FileSpecs.
import { readFileSync } from 'node:fs';
import type { FileSpec } from '../../fs/tree/virtual-tree.js';
import { VIEW_NAMES, VIEW_PATHS } from '../views/paths.js';

export interface ContentOptions {
  /** where the host's files are read (tests point it at fixtures) */
  hostRoot?: string;
}

export function createFiles(options: ContentOptions): FileSpec[] {
  const root = options.hostRoot ?? '';
  return VIEW_NAMES.map((name) => {
    const { path, host } = VIEW_PATHS[name];
    return { path, render: () => readFileSync(root + host) };
  });
}
