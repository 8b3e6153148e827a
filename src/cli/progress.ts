// A progress bar on stderr for long work, shown only on a terminal and only once the work has taken a moment.
import { SingleBar } from 'cli-progress';

const DELAY_MS = 400;

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  let done = 0;
  let total = 0;
  let bar: SingleBar | undefined;
  const values = () => ({ done: mb(done), all: mb(total) });
  const show = () => {
    if (bar || total === 0) return;
    bar = new SingleBar({
      stream,
      format: `${label} |{bar}| {percentage}% {done} / {all}`,
      barCompleteChar: '#',
      barIncompleteChar: '-',
      hideCursor: true,
    });
    bar.start(total, Math.min(done, total), values());
  };
  const timer = setTimeout(show, DELAY_MS).unref();
  return {
    update(d, t) {
      done = d;
      total = t;
      bar?.update(Math.min(done, total), values());
    },
    stop() {
      clearTimeout(timer);
      bar?.stop();
      bar = undefined;
    },
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
