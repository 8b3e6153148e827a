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
  return { stream: kind.toUpperCase() === 'O' ? 'stdout' : 'stderr', time: m[2]!, text: m[3]! + (kind === 'O' || kind === 'E' ? '\n' : '') };
}

/** Everything logged so far: the rotated file, then the current one. */
export function readLog(path: string): LogRecord[] {
  const text = [`${path}.1`, path].map((p) => (existsSync(p) ? readFileSync(p, 'utf8') : '')).join('');
  return text.split('\n').flatMap((l) => parseRecord(l) ?? []);
}

function readOne(path: string): LogRecord[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').flatMap((l) => parseRecord(l) ?? []) : [];
}

/**
 * Follow the log: print what is there, then what comes, across rotations, until `ended()` says the
 * container is gone (then what was written last).
 */
export async function followLog(path: string, emit: (r: LogRecord) => void, ended: () => boolean): Promise<void> {
  // open the current file first: what it holds is read from its start below, so nothing is lost
  let fd = existsSync(path) ? openSync(path, 'r') : -1;
  let pos = 0;
  for (const r of readOne(`${path}.1`)) emit(r);
  let partial = '';
  const buf = Buffer.alloc(65536);
  const drain = () => {
    for (let n; fd >= 0 && (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) {
      const lines = (partial + buf.subarray(0, n).toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const r = parseRecord(l);
        if (r) emit(r);
      }
    }
  };
  for (;;) {
    const done = ended();
    drain();
    // rotated: the file we hold became LOG.1 (read to its end above); go on with the new one
    if (existsSync(path) && (fd < 0 || statSync(path).ino !== fstatSync(fd).ino)) {
      if (fd >= 0) closeSync(fd);
      fd = openSync(path, 'r');
      pos = 0;
      partial = '';
      continue;
    }
    if (done) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (fd >= 0) closeSync(fd);
}
