// Logging from any thread: one synchronous write of one line to stderr, so lines never interleave.
import { writeSync } from 'node:fs';

export function logLine(message: string): void {
  try {
    writeSync(2, `${new Date().toISOString()} tsproc: ${message}\n`);
  } catch {
    // stderr is gone (closed pipe): nothing left to tell
  }
}
