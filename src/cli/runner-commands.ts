// The runner's commands, for main.ts: run, and those that control containers from the side.
import type { Command } from 'commander';
import { execCommand } from './exec-command.js';
import { inspectCommand } from './inspect-command.js';
import { killCommand } from './kill-command.js';
import { logsCommand } from './logs-command.js';
import { psCommand } from './ps-command.js';
import { rmCommand } from './rm-command.js';
import { statsCommand } from './stats-command.js';
import { stopCommand } from './stop-command.js';
import { topCommand } from './top-command.js';
import { waitCommand } from './wait-command.js';
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
