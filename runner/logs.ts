// A container's log (written by its monitor, native/log.c): records "O|E|o|e TIME TEXT", O stdout,
// E stderr, lower case when no newline ended the text; the previous file is LOG.1 after a rotation.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface LogRecord {
  stream: 'stdout' | 'stderr';
  time: string;
  text: string;
}

export function parseRecord(line: string): LogRecord | undefined {
  const m = /^([OEoe]) (\S+) (.*)$/s.exec(line);
  if (!m) return undefined;
  const kind = m[1]!;
  return {
    stream: kind.toUpperCase() === 'O' ? 'stdout' : 'stderr',
    time: m[2]!,
    text: m[3]! + (kind === 'O' || kind === 'E' ? '\n' : ''),
  };
}

/** Everything logged so far: the rotated file, then the current one. */
export function readLog(path: string): LogRecord[] {
  const text = [`${path}.1`, path].map((p) => (existsSync(p) ? readFileSync(p, 'utf8') : '')).join('');
  return text.split('\n').flatMap((l) => parseRecord(l) ?? []);
}

/** A log file held open (a rotation renames it, a second one unlinks it: we still read it to its end). */
interface Held {
  fd: number;
  ino: number;
  pos: number;
  partial: string;
}

function hold(path: string): Held | undefined {
  try {
    const fd = openSync(path, 'r');
    return { fd, ino: fstatSync(fd).ino, pos: 0, partial: '' };
  } catch {
    return undefined; // not there (yet, or between the monitor's rename and its next open)
  }
}

/**
 * The current file and, when it is not the one we hold (still open, so its inode is not reused),
 * the one rotated before it: the current one opened first, so that a rotation between the two
 * opens shows as the same inode (nothing read twice) and not as a skipped file.
 */
function holdBoth(path: string, held: Held | undefined): { rotated?: Held; current?: Held } {
  const current = hold(path);
  const rotated = hold(`${path}.1`);
  if (rotated && (rotated.ino === held?.ino || rotated.ino === current?.ino)) {
    closeSync(rotated.fd);
    return { ...(current ? { current } : {}) };
  }
  return { ...(rotated ? { rotated } : {}), ...(current ? { current } : {}) };
}

/**
 * Follow the log: print what is there, then what comes, across rotations, until `ended()` says the
 * container is gone (then what was written last). Nothing is lost to a rotation:
 * the file we hold is read to its end once it has been renamed away (the monitor writes no more
 * to it then), and a file rotated in and out again between two looks is read from LOG.1. Only a
 * reader more than two caps behind loses what the monitor has deleted.
 */
export async function followLog(path: string, emit: (r: LogRecord) => void, ended: () => boolean): Promise<void> {
  const buf = Buffer.alloc(65536);
  const drain = (h: Held) => {
    for (let n; (n = readSync(h.fd, buf, 0, buf.length, h.pos)) > 0; h.pos += n) {
      const lines = (h.partial + buf.subarray(0, n).toString('utf8')).split('\n');
      h.partial = lines.pop()!;
      for (const l of lines) {
        const r = parseRecord(l);
        if (r) emit(r);
      }
    }
  };
  const finish = (h: Held) => {
    drain(h);
    closeSync(h.fd);
  };
  let { rotated, current } = holdBoth(path, undefined);
  if (rotated) finish(rotated);
  for (;;) {
    const done = ended();
    if (current) drain(current);
    // rotated: the file we hold is complete now; read it to its end, then what came after it
    let now: number | undefined;
    try {
      now = statSync(path).ino;
    } catch {
      now = undefined;
    }
    if (now !== undefined && now !== current?.ino) {
      const old = current;
      if (old) drain(old);
      ({ rotated, current } = holdBoth(path, old));
      if (old) closeSync(old.fd);
      if (rotated) finish(rotated);
      continue;
    }
    if (done) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (current) closeSync(current.fd);
}
