// The one error type: errno-shaped (code, errno, syscall, path), wrapped with context on the way up,
// printed once at the top by the CLI. Every layer (fs/, src/, runner/) may import this leaf module.
import { constants } from 'node:os';

export interface ErrorFields {
  code?: string;
  syscall?: string;
  path?: string;
  /** the process exit status the CLI uses when this error reaches the top */
  exitCode?: number;
  cause?: unknown;
}

export class TsprocError extends Error {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly path: string | undefined;
  readonly exitCode: number;

  constructor(message: string, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'TsprocError';
    this.code = fields.code;
    this.errno = fields.code ? (constants.errno as Record<string, number>)[fields.code] : undefined;
    this.syscall = fields.syscall;
    this.path = fields.path;
    this.exitCode = fields.exitCode ?? 1;
  }
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, num]) => [num, name]));

/** The name of an errno number (2 → ENOENT), undefined for one Node does not know. */
export function errnoName(errno: number): string | undefined {
  return errnoNames.get(errno);
}

/** A Node system error (ENOENT from fs.openSync, ...) as a TsprocError saying what was being done. */
export function wrapError(err: unknown, context: string, fields: ErrorFields = {}): TsprocError {
  const e = err as NodeJS.ErrnoException & { exitCode?: number };
  if (err instanceof TsprocError) {
    return new TsprocError(`${context}: ${err.message}`, {
      code: err.code,
      syscall: err.syscall,
      path: err.path,
      exitCode: fields.exitCode ?? err.exitCode,
      cause: err,
    });
  }
  const detail =
    e?.code && e.syscall
      ? `${e.syscall} ${e.path ? `\`${e.path}\` ` : ''}failed: ${e.code} (${describeCode(e.code)})`
      : String(e?.message ?? err);
  return new TsprocError(`${context}: ${detail}`, {
    code: fields.code ?? e?.code,
    syscall: fields.syscall ?? e?.syscall,
    path: fields.path ?? e?.path,
    exitCode: fields.exitCode,
    cause: err,
  });
}

const descriptions: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  EBUSY: 'busy',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENOTCONN: 'transport endpoint is not connected',
  ENODEV: 'no such device',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  ENOMEM: 'out of memory',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  ENOTEMPTY: 'directory not empty',
  EXDEV: 'another filesystem',
};

/** A path fit for a one-line message: whole up to 100 characters, else its start and end around an ellipsis. */
export function shortPath(path: string): string {
  return path.length <= 100 ? path : `${path.slice(0, 60)}…${path.slice(-30)}`;
}

export function describeCode(code: string): string {
  return descriptions[code] ?? code;
}

/** The message the CLI prints for any error: TsprocErrors as they are, others with their stack. */
export function formatError(err: unknown): string {
  if (err instanceof TsprocError) return err.message;
  if (err instanceof Error && (err as NodeJS.ErrnoException).code) return wrapError(err, 'error').message.replace(/^error: /, '');
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
