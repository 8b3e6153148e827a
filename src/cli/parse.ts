// Argument parsers shared by commands: each names the flag and the bad value in its error.
import { InvalidArgumentError } from 'commander';

export function parsePositiveInt(flag: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`${flag} wants a positive integer, not ${JSON.stringify(value)}`);
    return Number(value);
  };
}
