// `tsproc stop [-t SECONDS] NAME...`: SIGTERM through each container's monitor, then SIGKILL after the timeout.
import { Command, InvalidArgumentError } from 'commander';
import { rootsOf } from './roots.js';
import { loadContainers, loadControl, loadTeardown } from './runner-modules.js';

export function stopCommand(): Command {
  return new Command('stop')
    .description('stop containers: SIGTERM, then SIGKILL after the timeout')
    .argument('<names...>')
    .option(
      '-t, --time <seconds>',
      'seconds to wait before SIGKILL',
      (v) => {
        if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`-t wants whole seconds, not ${JSON.stringify(v)}`);
        return Number(v);
      },
      10,
    )
    .action(async (names: string[], opts: { time: number }, cmd: Command) => {
      const [{ findContainer }, { sendSignal, waitForEnd }, { settleDead }] = await Promise.all([
        loadContainers(),
        loadControl(),
        loadTeardown(),
      ]);
      const roots = rootsOf(cmd);
      for (const name of names) {
        const info = settleDead(roots, findContainer(roots, name));
        if (info.status === 'running') {
          sendSignal(roots, info, 15);
          if (!(await waitForEnd(roots, info.record.id, opts.time * 1000))) {
            sendSignal(roots, info, 9);
            await waitForEnd(roots, info.record.id);
          }
        }
        process.stdout.write(`${name}\n`);
      }
    });
}
