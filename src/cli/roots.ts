// The global --data-root and --state-root (before the subcommand; also TSPROC_DATA_ROOT, TSPROC_STATE_ROOT).
import { type Command, Option } from 'commander';
import { resolve } from 'node:path';

export const DEFAULT_DATA_ROOT = '/var/lib/tsproc-data';
export const DEFAULT_STATE_ROOT = '/run/tsproc';

export interface Roots {
  /** what outlives a reboot: images, layers, exited containers, logs */
  dataRoot: string;
  /** running containers' state */
  stateRoot: string;
}

export function addRootOptions(program: Command): Command {
  return program
    .addOption(new Option('--data-root <dir>', 'images, layers, exited containers and logs').env('TSPROC_DATA_ROOT').default(DEFAULT_DATA_ROOT))
    .addOption(new Option('--state-root <dir>', "running containers' state").env('TSPROC_STATE_ROOT').default(DEFAULT_STATE_ROOT));
}

/** The roots as given to the command's program, made absolute. */
export function rootsOf(cmd: Command): Roots {
  const o = cmd.optsWithGlobals<{ dataRoot?: string; stateRoot?: string }>();
  return { dataRoot: resolve(o.dataRoot ?? DEFAULT_DATA_ROOT), stateRoot: resolve(o.stateRoot ?? DEFAULT_STATE_ROOT) };
}
