// `tsproc image import|ls|rm`, and the docker-style `tsproc images` and `tsproc rmi` (the same actions).
import { Command } from 'commander';
import { humanSize } from '../human.js';
import { rootsOf } from './roots.js';

// The image store, tar and the progress bar load when an image command runs, not with the CLI (issue 13).
const store = () => import('../../runner/image/index.js');
const table = () => import('./image-table.js');

export function imageCommand(): Command {
  return new Command('image')
    .description('import, list and remove images')
    .addCommand(importCommand())
    .addCommand(listCommand('ls'))
    .addCommand(rmiCommand('rm'));
}

export const imagesCommand = (): Command => listCommand('images');
export const rmiCommand = (name = 'rmi'): Command => removeCommand(name);

function importCommand(): Command {
  return new Command('import')
    .description('import an OCI image layout, a docker save archive, or a root filesystem (directory or tar) as an image')
    .argument('<path>', 'directory or tar archive')
    .option('--name <name[:tag]>', "the image's name (default: the names the archive carries)")
    .action(async (path: string, opts: { name?: string }, cmd: Command) => {
      const [{ ImageStore, importImage }, { progressBar }] = await Promise.all([store(), import('./progress.js')]);
      const images = new ImageStore(rootsOf(cmd).dataRoot);
      // the first SIGINT or SIGTERM ends the import at once, cleaning its scratch directory; a second one, the
      // process outright (what it leaves, the next import or gc removes)
      const abort = new AbortController();
      const stop = () => {
        process.off('SIGINT', stop).off('SIGTERM', stop);
        abort.abort();
      };
      process.on('SIGINT', stop).on('SIGTERM', stop);
      const bar = progressBar('importing');
      try {
        const r = await importImage(images, path, {
          ...(opts.name ? { name: opts.name } : {}),
          signal: abort.signal,
          onProgress: (d, t) => bar.update(d, t),
        });
        bar.stop();
        for (const n of r.notices) process.stderr.write(`tsproc: ${n}\n`);
        for (const i of r.images) {
          if (i.names.length === 0) process.stdout.write(`Loaded image ID: ${i.id}\n`);
          for (const n of i.names) process.stdout.write(`Loaded image: ${n}\n`);
        }
      } finally {
        bar.stop();
        process.off('SIGINT', stop).off('SIGTERM', stop);
      }
    });
}

function listCommand(name: string): Command {
  return new Command(name)
    .description('list images')
    .option('--json', 'one JSON array: id, names, created, size, layers')
    .option('-q, --quiet', 'image ids only')
    .action(async (opts: { json?: boolean; quiet?: boolean }, cmd: Command) => {
      const [{ ImageStore }, { formatImages, hexOf }] = await Promise.all([store(), table()]);
      const images = new ImageStore(rootsOf(cmd).dataRoot).images();
      if (opts.quiet) process.stdout.write(images.map((i) => `${hexOf(i.id).slice(0, 12)}\n`).join(''));
      else if (opts.json)
        process.stdout.write(
          `${JSON.stringify(
            images.map((i) => ({
              id: i.id,
              names: i.names,
              created: i.config.created ?? i.imported,
              size: i.size,
              layers: i.config.diffIds,
            })),
            null,
            2,
          )}\n`,
        );
      else process.stdout.write(formatImages(images, new Date()));
    });
}

function removeCommand(name: string): Command {
  return new Command(name)
    .description('remove images (a name untags; the last name, or the id, removes the image and its unused layers)')
    .argument('<image...>', 'names or ids')
    .option('-f, --force', 'remove even if containers use it (kept hidden until they are gone); remove every name of an id')
    .action(async (refs: string[], opts: { force?: boolean }, cmd: Command) => {
      const [{ ImageStore, removeImages }, { hexOf }, { containerStore }, { settleContainers }] = await Promise.all([
        store(),
        table(),
        import('../../runner/container-store.js'),
        import('../../runner/teardown.js'),
      ]);
      const roots = rootsOf(cmd);
      settleContainers(roots); // a dead --rm container goes, and with it its use of the image
      const r = await removeImages(new ImageStore(roots.dataRoot), refs, containerStore(roots), { force: opts.force ?? false });
      for (const n of r.untagged) process.stdout.write(`Untagged: ${n}\n`);
      for (const id of [...r.deleted, ...r.hidden]) process.stdout.write(`Deleted: ${id}\n`);
      for (const id of r.hidden)
        process.stderr.write(`tsproc: ${hexOf(id).slice(0, 12)} is kept until the containers using it are removed (tsproc gc)\n`);
      if (r.layers.length > 0)
        process.stdout.write(
          `Freed ${r.layers.length} layer${r.layers.length > 1 ? 's' : ''}, ${humanSize(r.layers.reduce((n, l) => n + l.size, 0))}\n`,
        );
    });
}
