// `tsproc exec [-i] [-t] [-e K=V] [-u USER] [-w DIR] NAME CMD...`: exits with the command's status.
import { Command } from 'commander';
import type { ExecFlags } from '../../runner/exec.js';
import { rootsOf } from './roots.js';
import { TsprocError } from '../errors.js';
import { hostProbe } from '../../runner/host-probe.js';
import { exitOnUsage } from './run-command.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function execCommand(): Command {
  const cmd = new Command('exec')
    .description("run a command in a running container (options end at the container's name)")
    .argument('<name>', 'the container: name, id or id prefix')
    .argument('<command...>', 'the command and its arguments')
    .passThroughOptions()
    .option('-i, --interactive', 'pass our stdin')
    .option('-t, --tty', 'a pseudo-terminal')
    .option('-e, --env <K=V>', 'set an environment variable', collect)
    .option('-u, --user <user>', "NAME|UID[:GROUP|GID] (default: the container's user)")
    .option('-w, --workdir <dir>', "working directory (default: the container's)")
    .action(async (name: string, args: string[], flags: ExecFlags, command: Command) => {
      // loaded when exec runs, not with the CLI (issue 13)
      const [{ findContainer }, { execInContainer }] = await Promise.all([
        import('../../runner/containers.js'),
        import('../../runner/exec.js'),
      ]);
      const roots = rootsOf(command);
      let info;
      try {
        info = findContainer(roots, name);
      } catch (err) {
        throw err instanceof TsprocError ? new TsprocError(err.message, { ...(err.code ? { code: err.code } : {}), exitCode: 125 }) : err;
      }
      process.exitCode = await execInContainer(roots, info, flags, args, hostProbe(), (m) => process.stderr.write(`tsproc: ${m}\n`));
    });
  return exitOnUsage(cmd, 125);
}
