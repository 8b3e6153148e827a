// A progress bar on stderr for long work, shown only on a terminal and only once the work has taken a moment.
import { SingleBar } from 'cli-progress';

const DELAY_MS = 400;

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => {}, stop: () => {} };
  const started = Date.now();
  let bar: SingleBar | undefined;
  return {
    update(done, total) {
      if (!bar) {
        if (Date.now() - started < DELAY_MS || total === 0) return;
        bar = new SingleBar({
          stream,
          format: `${label} |{bar}| {percentage}% {done} / {all}`,
          barCompleteChar: '#',
          barIncompleteChar: '-',
          hideCursor: true,
          clearOnComplete: true,
        });
        bar.start(total, done, { done: mb(done), all: mb(total) });
      }
      bar.update(Math.min(done, total), { done: mb(done), all: mb(total) });
    },
    stop() {
      bar?.stop();
    },
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
