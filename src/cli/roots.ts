// The global --data-root and --state-root (before the subcommand; else TSPROC_DATA_ROOT, TSPROC_STATE_ROOT).
import { type Command, Option } from 'commander';
import { DEFAULT_DATA_ROOT, DEFAULT_STATE_ROOT, resolveRoots, type Roots } from '../../runner/roots.js';

export function addRootOptions(program: Command): Command {
  return program
    .addOption(new Option('--state-root <dir>', `running containers' state (default ${DEFAULT_STATE_ROOT}, or TSPROC_STATE_ROOT)`))
    .addOption(
      new Option(
        '--data-root <dir>',
        `what outlives a reboot: images, layers, exited containers, logs (default ${DEFAULT_DATA_ROOT}, or TSPROC_DATA_ROOT)`,
      ),
    );
}

/** The roots as given to the program (options, then environment, then defaults), made absolute. */
export function rootsOf(cmd: Command): Roots {
  return resolveRoots(cmd.optsWithGlobals<{ dataRoot?: string; stateRoot?: string }>());
}
