// Errors of the cgroup layer: a file that must exist does not, or a file does not parse.

/** A file the driver needs is not there: a controller not enabled for the cgroup, or the cgroup was removed. */
export class MissingFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} does not exist`);
    this.name = 'MissingFileError';
  }
}

/** A malformed cgroup file: the view falls back to the host's file rather than show garbage. */
export class ParseError extends Error {
  constructor(what: string, text: string) {
    super(`cannot parse ${what}: ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}`);
    this.name = 'ParseError';
  }
}
