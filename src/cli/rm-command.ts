// `tsproc rm [-f] NAME...`: remove containers that ended (with -f, end running ones first).
import { Command } from 'commander';
import type { ContainerInfo } from '../../runner/containers.js';
import { rootsOf } from './roots.js';
import { loadContainers, loadControl, loadTeardown } from './runner-modules.js';

export function rmCommand(): Command {
  return new Command('rm')
    .description(
      "remove containers that ended or never started (-f: kill running ones first): record, log, name, cgroups, state, and an image's layers",
    )
    .argument('<names...>')
    .option('-f, --force', 'kill a running container first (one being created: once its run has handed it over)')
    .action(async (names: string[], opts: { force?: boolean }, cmd: Command) => {
      const [{ findContainer, isLive, liveError }, { forceEnd, waitForEnd }, { removeEnded }] = await Promise.all([
        loadContainers(),
        loadControl(),
        loadTeardown(),
      ]);
      const roots = rootsOf(cmd);
      for (const name of names) {
        let info: ContainerInfo | undefined = findContainer(roots, name);
        if (isLive(info)) {
          if (!opts.force) throw liveError(info, ', or use rm -f');
          info = await forceEnd(roots, info.record.id);
        } else await waitForEnd(roots, info.record.id); // an exit recorded: its monitor may still be cleaning up
        if (info) removeEnded(roots, info); // a dead one too: its removal is its teardown
        process.stdout.write(`${name}\n`);
      }
    });
}
