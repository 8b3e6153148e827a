// The runner's commands, for main.ts: run, and those that control containers from the side.
import type { Command } from 'commander';
import { execCommand } from './exec-command.js';
import { inspectCommand, logsCommand, topCommand } from './inspect-command.js';
import { killCommand, rmCommand, stopCommand, waitCommand } from './lifecycle-commands.js';
import { psCommand, statsCommand } from './ps-command.js';
import { runCommand } from './run-command.js';

/** Each command's maker by its name, in the order `tsproc --help` lists them. */
export const runnerCommands: Record<string, () => Command> = {
  run: runCommand,
  exec: execCommand,
  ps: psCommand,
  top: topCommand,
  inspect: inspectCommand,
  logs: logsCommand,
  wait: waitCommand,
  stop: stopCommand,
  kill: killCommand,
  rm: rmCommand,
  stats: statsCommand,
};
