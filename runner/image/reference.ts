// Image names: `NAME[:TAG]` in docker's grammar (lowercase path components, an optional registry host[:port],
// a tag of up to 128 word characters; `latest` when none is given), and image ids and their prefixes.
import { TsprocError } from '../../src/errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)';
const NAME = new RegExp(`^${DOMAIN}?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;

/** `busybox` -> `busybox:latest`; a bad name is refused saying what is wrong with it. */
export function normalizeName(ref: string, what = 'image name'): string {
  if (ref.includes('@')) throw bad(ref, what, 'digest references (NAME@sha256:...) are not supported');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  if (!TAG.test(tag)) throw bad(ref, what, `the tag ${JSON.stringify(tag)} is not valid (letters, digits, _ . -; at most 128)`);
  if (!NAME.test(name) || name.length > 255)
    throw bad(ref, what, 'a name is lowercase letters and digits, separated by . _ - or /, with an optional registry host first');
  return `${name}:${tag}`;
}

function bad(ref: string, what: string, why: string): TsprocError {
  return new TsprocError(`${what} ${JSON.stringify(ref)}: ${why}`, { code: 'EINVAL' });
}

/** A tag alone (what `umoci` and `skopeo` put in an OCI layout's ref annotation). */
export function isBareTag(ref: string): boolean {
  return TAG.test(ref) && !ref.includes('/') && !/^[0-9a-f]{64}$/.test(ref);
}

/** `sha256:<hex>`, `<hex>` or a prefix of either: the hex part, or undefined if it cannot be an id. */
export function idPrefix(ref: string): string | undefined {
  const m = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(ref);
  return m ? m[1] : undefined;
}

export function splitName(name: string): { repository: string; tag: string } {
  const colon = name.lastIndexOf(':');
  return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
}
