// `tsproc wait NAME...`: wait until containers end and print their exit statuses.
import { Command } from 'commander';
import { rootsOf } from './roots.js';
import { loadContainers, loadControl } from './runner-modules.js';

export function waitCommand(): Command {
  return new Command('wait')
    .description('wait until containers end; print their exit statuses')
    .argument('<names...>')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const [{ findContainer }, { waitForExit }] = await Promise.all([loadContainers(), loadControl()]);
      const roots = rootsOf(cmd);
      for (const name of names) {
        process.stdout.write(`${await waitForExit(roots, findContainer(roots, name))}\n`);
      }
    });
}
