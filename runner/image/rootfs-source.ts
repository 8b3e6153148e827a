// A plain root filesystem (a directory, or a tar of one, possibly compressed) as a one-layer image: a directory is
// streamed through GNU tar (exact owners, modes, hard links, devices; sorted, so the same tree gives the same layer).
import { spawn } from 'node:child_process';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { TsprocError } from '../../src/errors.js';
import { contentBytes } from '../tree/tree-bytes.js';
import type { ImageSource, SourceLayer } from './source.js';

export function rootfsTar(path: string, label: string): ImageSource {
  const layer: SourceLayer = { what: `${label}: root filesystem`, total: statSync(path).size, open: () => createReadStream(path) };
  return { format: 'rootfs', images: [{ names: [], config: undefined, layers: [layer] }], notices: [] };
}

export function rootfsDir(dir: string, label: string): ImageSource {
  if (readdirSync(dir).length === 0)
    throw new TsprocError(`${label}: an empty directory is not an image (no OCI layout, no docker archive, no root filesystem)`, {
      code: 'EINVAL',
      path: dir,
    });
  const layer: SourceLayer = { what: `${label}: root filesystem`, total: contentBytes(dir), open: () => gnuTar(dir, label) };
  return { format: 'rootfs', images: [{ names: [], config: undefined, layers: [layer] }], notices: [] };
}

function gnuTar(dir: string, label: string): Readable {
  const out = new PassThrough();
  const child = spawn('tar', ['--create', '--file=-', '--numeric-owner', '--sort=name', '--format=gnu', '--directory', dir, '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new TsprocError(`${label}: cannot run tar: ${err.message}`)));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new TsprocError(`${label}: reading the directory with tar failed: ${stderr.trim() || `exit status ${code}`}`));
  });
  out.on('close', () => child.exitCode === null && child.kill());
  return out;
}
