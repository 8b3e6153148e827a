// Which root `tsproc run`'s arguments name: IMAGE and its command, or --rootfs DIR and the command.
import { TsprocError } from '../src/errors.js';

/**
 * `run [OPTIONS] IMAGE [CMD...]` or `run [OPTIONS] --rootfs DIR [--] CMD...`: the image (undefined with
 * --rootfs) and the command. With --rootfs every argument is the command, whatever images the store
 * holds (a script's `--rootfs DIR sh -c ...` must not change meaning when an image named sh is imported).
 */
export function splitRunArgs(rootfs: string | undefined, args: string[]): { image?: string; cmd: string[] } {
  if (rootfs !== undefined) return { cmd: args };
  if (args.length === 0 || args[0] === '')
    throw new TsprocError('no image given: tsproc run [OPTIONS] IMAGE [CMD [ARG...]], or tsproc run [OPTIONS] --rootfs DIR CMD [ARG...]', {
      code: 'EINVAL',
      exitCode: 125,
    });
  return { image: args[0]!, cmd: args.slice(1) };
}
