// The tsproc command line: subcommands, and the one place errors are printed.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { formatError, TsprocError } from '../errors.js';
import { gcCommand } from './gc-command.js';
import { imageCommand, imagesCommand, rmiCommand } from './image-command.js';
import { mountCommand } from './mount-command.js';
import { mountsCommand } from './mounts-command.js';
import { refuseArgumentsNodeRead } from './node-read-arguments.js';
import { addRootOptions } from './roots.js';
import { runnerCommands } from './runner-commands.js';
import { seccompAgentCommand } from './seccomp-agent-command.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Usage errors from commander read like every other error: `tsproc: ...`, exit status 1 (run and exec: 125). */
function settle(cmd: Command): Command {
  cmd.exitOverride().configureOutput({ outputError: (s, write) => write(`tsproc: ${s.replace(/^error: /, '')}`) });
  for (const sub of cmd.commands) settle(sub);
  return cmd;
}

/** Each subcommand's maker by its name, in the order `tsproc --help` lists them. */
const COMMANDS: Record<string, () => Command> = {
  mount: mountCommand,
  mounts: mountsCommand,
  ...runnerCommands,
  image: imageCommand,
  images: imagesCommand,
  rmi: rmiCommand,
  gc: gcCommand,
  'seccomp-agent': seccompAgentCommand,
};

/** The first argument past the program's own options (`--state-root DIR`): the subcommand's name, if any. */
function commandName(root: Command, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) return a;
    if (a === '--') return undefined;
    const opt = root.options.find((o) => o.long === a || o.short === a);
    if (opt?.required || opt?.optional) i++; // its value is the next argument
  }
  return undefined;
}

/**
 * The command line for `args` (process.argv less node and the script): when they name a subcommand,
 * that one alone is made (making the others' flags cost `tsproc run` some milliseconds: issue 13);
 * otherwise (help, a mistyped name) every one.
 */
export function program(args: readonly string[] = []): Command {
  const tsproc = addRootOptions(new Command('tsproc'))
    .description('per-container /proc views over FUSE, and a small container runner')
    .version(pkg.version, '-v, --version')
    .enablePositionalOptions()
    .hook('preAction', refuseArgumentsNodeRead);
  const name = commandName(tsproc, args);
  const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!] : Object.values(COMMANDS);
  for (const make of wanted) tsproc.addCommand(make());
  return settle(tsproc);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program(argv.slice(2)).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (usage errors, --help, --version)
      process.exitCode = err.exitCode; // 1, or a command's own (run and exec: 125)
      return;
    }
    process.stderr.write(`tsproc: ${formatError(err)}\n`);
    process.exitCode = err instanceof TsprocError ? err.exitCode : 1;
  }
}
