// Container ids (64 hex digits, 12 shown) and generated names ("brave_hopper"), as docker makes them.
import { randomBytes, randomInt } from 'node:crypto';

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
