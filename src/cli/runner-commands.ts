// The runner's commands, for main.ts: run, and those that control containers from the side.
import type { Command } from 'commander';
import { execCommand } from './exec-command.js';
import { inspectCommand, logsCommand, topCommand } from './inspect-command.js';
import { killCommand, rmCommand, stopCommand, waitCommand } from './lifecycle-commands.js';
import { psCommand, statsCommand } from './ps-command.js';
import { runCommand } from './run-command.js';

export function runnerCommands(): Command[] {
  return [runCommand(), execCommand(), psCommand(), topCommand(), inspectCommand(), logsCommand(), waitCommand(), stopCommand(), killCommand(), rmCommand(), statsCommand()];
}
