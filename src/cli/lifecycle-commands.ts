// `tsproc stop`, `kill`, `wait`, `rm`: acting on containers from the side, through their monitors.
import { Command, InvalidArgumentError } from 'commander';
import type { ContainerInfo } from '../../runner/containers.js';
import { rootsOf } from './roots.js';

// The runner's modules load when one of these commands runs, not with the CLI (issue 13).
const containers = () => import('../../runner/containers.js');
const control = () => import('../../runner/control.js');

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
      const [{ findContainer }, { sendSignal, waitForEnd }] = await Promise.all([containers(), control()]);
      const roots = rootsOf(cmd);
      for (const name of names) {
        const info = findContainer(roots, name);
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

export function killCommand(): Command {
  return new Command('kill')
    .description('send a signal to running containers (SIGKILL unless -s)')
    .argument('<names...>')
    .option('-s, --signal <signal>', 'a name (TERM, SIGTERM) or a number', 'KILL')
    .action(async (names: string[], opts: { signal: string }, cmd: Command) => {
      const [{ findContainer }, { sendSignal, signalNumber }] = await Promise.all([containers(), control()]);
      const roots = rootsOf(cmd);
      const sig = signalNumber('-s', opts.signal);
      for (const name of names) {
        sendSignal(roots, findContainer(roots, name), sig);
        process.stdout.write(`${name}\n`);
      }
    });
}

export function waitCommand(): Command {
  return new Command('wait')
    .description('wait until containers end; print their exit statuses')
    .argument('<names...>')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const [{ findContainer }, { waitForExit }] = await Promise.all([containers(), control()]);
      const roots = rootsOf(cmd);
      for (const name of names) {
        process.stdout.write(`${await waitForExit(roots, findContainer(roots, name))}\n`);
      }
    });
}

export function rmCommand(): Command {
  return new Command('rm')
    .description(
      "remove containers that ended or never started (-f: kill running ones first): record, log, name, cgroups, state, and an image's layers",
    )
    .argument('<names...>')
    .option('-f, --force', 'kill a running container first (one being created: once its run has handed it over)')
    .action(async (names: string[], opts: { force?: boolean }, cmd: Command) => {
      const [{ findContainer }, { forceEnd, waitForEnd }, { isLive, liveError, removeContainerRecord }] = await Promise.all([
        containers(),
        control(),
        import('../../runner/container-store.js'),
      ]);
      const roots = rootsOf(cmd);
      for (const name of names) {
        let info: ContainerInfo | undefined = findContainer(roots, name);
        if (isLive(info)) {
          if (!opts.force) throw liveError(info, ', or use rm -f');
          info = await forceEnd(roots, info.record.id);
        } else await waitForEnd(roots, info.record.id); // an exit recorded: its monitor may still be cleaning up
        if (info) removeContainerRecord(roots, info);
        process.stdout.write(`${name}\n`);
      }
    });
}
