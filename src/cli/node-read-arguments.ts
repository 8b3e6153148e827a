// tsproc's own arguments that Node took for its `--env-file` before tsproc started: refused, not acted on.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';

const ENV_FILE = /^--env-file(-if-exists)?(=|$)/;

/**
 * Node 20 looks through its whole command line up to the first `--`, the script's arguments included,
 * for `--env-file FILE`, `--env-file=FILE` and the same with `--env-file-if-exists`, and loads those
 * files (a NODE_OPTIONS in them included) before any JavaScript runs (src/node_dotenv.cc,
 * Dotenv::GetDataFromArgs; a match takes the next argument, and the search goes on from that argument).
 * `cmdline` is Node's command line, argv[0] first; its last `own` entries are tsproc's arguments.
 * Returns those of tsproc's arguments that Node read as a file to load.
 */
export function argumentsNodeRead(cmdline: readonly string[], own: number): string[] {
  const first = cmdline.length - own;
  const read: string[] = [];
  for (let i = 1; i < cmdline.length; i++) {
    const arg = cmdline[i]!;
    if (arg === '--') break;
    const m = ENV_FILE.exec(arg);
    if (!m) continue;
    if (m[2] === '=') {
      if (i >= first) read.push(arg);
    } else if (i + 1 === cmdline.length) {
      break; // a last --env-file names no file
    } else if (i + 1 >= first) {
      read.push(`${arg} ${cmdline[i + 1]!}`);
    }
  }
  return read;
}

/** This process's command line as Node got it (process.argv lacks the `--` that stops Node's search). */
function ownCommandLine(): string[] {
  try {
    return readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1);
  } catch {
    return []; // no /proc: nothing to tell
  }
}

/**
 * A preAction hook: started as `node bin/tsproc.js ... --env-file F`, Node has loaded F into this process
 * (its PATH or LD_PRELOAD would reach every program tsproc starts); say how to start tsproc instead.
 * The error is a usage error of the command (run and exec: 125).
 */
export function refuseArgumentsNodeRead(_root: Command, action: Command): void {
  const read = argumentsNodeRead(ownCommandLine(), process.argv.length - 2);
  if (read.length === 0) return;
  action.error(
    `node itself read ${read.map((a) => `\`${a}\``).join(', ')} before tsproc started (Node 20 takes --env-file from anywhere on ` +
      'its command line before a `--`): start tsproc as its bin (`tsproc ...`) or as `node -- /path/to/tsproc/bin/tsproc.js ...`; nothing was done',
  );
}
