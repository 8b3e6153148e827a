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

export function program(): Command {
  const tsproc = addRootOptions(new Command('tsproc'))
    .description('per-container /proc views over FUSE, and a small container runner')
    .version(pkg.version, '-v, --version')
    .enablePositionalOptions()
    .hook('preAction', refuseArgumentsNodeRead)
    .addCommand(mountCommand())
    .addCommand(mountsCommand());
  for (const c of runnerCommands()) tsproc.addCommand(c);
  tsproc.addCommand(imageCommand()).addCommand(imagesCommand()).addCommand(rmiCommand()).addCommand(gcCommand()).addCommand(seccompAgentCommand());
  return settle(tsproc);
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
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
