// `tsproc seccomp-agent [SOCKET]`: sysinfo(2) answered for runc (and docker) containers whose seccomp
// profile sends it to SOCKET (config.json's linux.seccomp.listenerPath); the helper does the work
// (native/agent.c), in the foreground, until SIGINT or SIGTERM.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { wrapError } from '../errors.js';

export const DEFAULT_AGENT_SOCKET = '/run/tsproc/seccomp-agent.sock';

export function seccompAgentCommand(): Command {
  return new Command('seccomp-agent')
    .description(
      "answer sysinfo(2) for runc containers whose seccomp profile notifies it to SOCKET (listenerPath), from each container's own /proc files (runs in the foreground)",
    )
    .argument('[socket]', 'the unix socket runc connects to', DEFAULT_AGENT_SOCKET)
    .action(async (socket: string) => {
      const { HELPER } = await import('../../runner/helper-process.js'); // with the command, not the CLI (issue 13)
      const path = resolve(socket);
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      } catch (err) {
        throw wrapError(err, `cannot create the directory of ${path}`);
      }
      const child = spawn(HELPER, ['seccomp-agent', path], { stdio: ['ignore', 'inherit', 'inherit'] });
      const stop = (sig: NodeJS.Signals) => child.kill(sig);
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, stop);
      const code = await new Promise<number>((done, fail) => {
        child.on('error', (err) => fail(wrapError(err, `cannot start the runner's helper ${HELPER} (npm install builds it)`)));
        // stopped by a signal we passed on: a clean end
        child.on('exit', (status, signal) => done(signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : (status ?? 1)));
      });
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, stop);
      // ours while it listened (it refuses a socket another agent answers on)
      if (code === 0) rmSync(path, { force: true });
      process.exitCode = code;
    });
}
