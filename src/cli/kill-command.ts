// `tsproc kill [-s SIGNAL] NAME...`: a signal to running containers, through their monitors.
import { Command } from 'commander';
import { rootsOf } from './roots.js';
import { loadContainers, loadControl, loadTeardown } from './runner-modules.js';

export function killCommand(): Command {
  return new Command('kill')
    .description('send a signal to running containers (SIGKILL unless -s)')
    .argument('<names...>')
    .option('-s, --signal <signal>', 'a name (TERM, SIGTERM) or a number', 'KILL')
    .action(async (names: string[], opts: { signal: string }, cmd: Command) => {
      const [{ findContainer }, { sendSignal, signalNumber }, { settleDead }] = await Promise.all([
        loadContainers(),
        loadControl(),
        loadTeardown(),
      ]);
      const roots = rootsOf(cmd);
      const sig = signalNumber('-s', opts.signal);
      for (const name of names) {
        sendSignal(roots, settleDead(roots, findContainer(roots, name)), sig);
        process.stdout.write(`${name}\n`);
      }
    });
}
