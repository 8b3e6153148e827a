// `tsproc logs [-f] NAME`: a container's output as it wrote it.
import { Command } from 'commander';
import type { LogRecord } from '../../runner/logs.js';
import { paths } from '../../runner/roots.js';
import { rootsOf } from './roots.js';
import { loadContainers, loadTeardown } from './runner-modules.js';

export function logsCommand(): Command {
  return new Command('logs')
    .description("a container's output (its stdout and stderr, kept as it wrote them)")
    .argument('<name>')
    .option('-f, --follow', 'go on printing until it ends')
    .action(async (name: string, opts: { follow?: boolean }, cmd: Command) => {
      const [{ findContainer }, { settleDead }, { followLog, readLog }, { RECORD_FILES }] = await Promise.all([
        loadContainers(),
        loadTeardown(),
        import('../../runner/logs.js'),
        import('../../runner/state.js'),
      ]);
      const roots = rootsOf(cmd);
      const info = settleDead(roots, findContainer(roots, name));
      const path = `${paths.record(roots, info.record.id)}/${RECORD_FILES.log}`;
      // a reader that went away (tsproc logs NAME | head) ends us quietly
      for (const s of [process.stdout, process.stderr])
        s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));
      const emit = (r: LogRecord) => (r.stream === 'stdout' ? process.stdout : process.stderr).write(r.text);
      if (!opts.follow) {
        for (const r of readLog(path)) emit(r);
        return;
      }
      await followLog(path, emit, () => {
        const now = findContainer(roots, info.record.id);
        return now.status !== 'running' && now.status !== 'created';
      });
    });
}
