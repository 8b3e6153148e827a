// `tsproc gc`: removes exited containers, hidden images no container uses, and unused layers; says what it freed.
import { Command } from 'commander';
import { humanSize } from '../human.js';
import { rootsOf } from './roots.js';
import { loadTeardown } from './runner-modules.js';

export function gcCommand(): Command {
  return new Command('gc')
    .description('remove exited containers and their writable layers, and every layer no image uses')
    .action(async (_opts: unknown, cmd: Command) => {
      // loaded when gc runs, not with the CLI (issue 13)
      const [{ ImageStore, collectGarbage }, { containerStore }, { settleContainers }] = await Promise.all([
        import('../../runner/image/index.js'),
        import('../../runner/container-store.js'),
        loadTeardown(),
      ]);
      const roots = rootsOf(cmd);
      settleContainers(roots); // dead ones settled first: gc removes them as it removes exited ones
      const r = await collectGarbage(new ImageStore(roots.dataRoot), containerStore(roots));
      const out: string[] = [];
      for (const c of r.containers) out.push(`Deleted container: ${c.id.slice(0, 12)} (${c.name})`);
      for (const id of r.images) out.push(`Deleted image: ${id}`);
      for (const l of r.layers) out.push(`Deleted layer: ${l.diffId} (${humanSize(l.size)})`);
      if (r.scratch > 0) out.push(`Removed ${r.scratch} unfinished import${r.scratch > 1 ? 's' : ''}`);
      const bytes = r.layers.reduce((n, l) => n + l.size, 0) + r.containers.reduce((n, c) => n + c.bytes, 0);
      out.push(`Total reclaimed space: ${humanSize(bytes)}`);
      process.stdout.write(`${out.join('\n')}\n`);
      if (r.importRunning) process.stderr.write('tsproc: an import is running: unused layers are left for the next gc\n');
    });
}
