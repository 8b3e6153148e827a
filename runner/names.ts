// Container ids (64 hex digits, 12 shown) and generated names ("brave_hopper"), as docker makes them.
// The random bytes come from /dev/urandom: node:crypto takes a run 5 to 30 ms to load (issue 13).
import { closeSync, openSync, readSync } from 'node:fs';

/** n bytes from the kernel's random source (getrandom(2)'s, read as /dev/urandom). */
function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < n;) got += readSync(fd, b, got, n - got, null);
  } finally {
    closeSync(fd);
  }
  return b;
}

/** A whole number from 0 to n - 1 (n small: the bias of 32 random bits modulo n is below 2^-26). */
const randomInt = (n: number): number => randomBytes(4).readUInt32LE(0) % n;

const ADJECTIVES = [
  'brave',
  'calm',
  'clever',
  'eager',
  'gentle',
  'happy',
  'jolly',
  'keen',
  'kind',
  'lucid',
  'merry',
  'modest',
  'nimble',
  'proud',
  'quiet',
  'quick',
  'sharp',
  'steady',
  'sunny',
  'tender',
  'vivid',
  'wise',
  'witty',
  'zealous',
];
const SURNAMES = [
  'babbage',
  'curie',
  'dijkstra',
  'euler',
  'gauss',
  'hopper',
  'kepler',
  'knuth',
  'lamport',
  'lovelace',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'thompson',
  'torvalds',
  'turing',
  'wing',
  'hamilton',
  'liskov',
  'mccarthy',
  'perlman',
];

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}

export function newName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
}
