// An image's config blob (OCI and docker's are the same JSON): its layers' diff_ids, and what a container
// runs with (Entrypoint, Cmd, Env, WorkingDir, User), merged with `tsproc run`'s overrides as docker does.
import { TsprocError } from '../../src/errors.js';
import { type Digest, parseDigest } from './digest-name.js';

export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
}

export interface ParsedConfig {
  diffIds: Digest[];
  created: string | undefined;
  architecture: string | undefined;
  os: string | undefined;
  run: ImageConfig;
}

const strings = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw new TsprocError(`image config: ${what} is not a list of strings`, { code: 'EINVAL' });
  return v as string[];
};
const string = (v: unknown, what: string): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new TsprocError(`image config: ${what} is not a string`, { code: 'EINVAL' });
  return v;
};

export function parseConfig(bytes: Buffer, what: string): ParsedConfig {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
  } catch (err) {
    throw new TsprocError(`${what}: the image config is not valid JSON: ${(err as Error).message}`, { code: 'EINVAL' });
  }
  const rootfs = json.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) {
    throw new TsprocError(`${what}: the image config has no rootfs.diff_ids (is this an image config?)`, { code: 'EINVAL' });
  }
  const c = (json.config ?? {}) as Record<string, unknown>;
  return {
    diffIds: rootfs.diff_ids.map((d, i) => parseDigest(d, `${what}: rootfs.diff_ids[${i}]`)),
    created: typeof json.created === 'string' ? json.created : undefined,
    architecture: typeof json.architecture === 'string' ? json.architecture : undefined,
    os: typeof json.os === 'string' ? json.os : undefined,
    run: {
      entrypoint: strings(c.Entrypoint, 'Entrypoint'),
      cmd: strings(c.Cmd, 'Cmd'),
      env: strings(c.Env, 'Env'),
      workingDir: string(c.WorkingDir, 'WorkingDir'),
      user: string(c.User, 'User'),
    },
  };
}

/** What `tsproc run` gave; undefined (or an empty cmd) leaves the image's value. */
export interface RunOverrides {
  /** --entrypoint: replaces the image's Entrypoint and drops its Cmd ('' clears both) */
  entrypoint?: string;
  /** the command after IMAGE */
  cmd?: string[];
  /** -e and --env-file, K=V, in order */
  env?: string[];
  workdir?: string;
  user?: string;
}

export interface Resolved {
  argv: string[];
  /** the image's Env with the overrides applied by key; the runner adds its defaults for keys not set */
  env: string[];
  /** '/' when neither says */
  workdir: string;
  /** '' means root */
  user: string;
}

export function applyImageConfig(image: ImageConfig, o: RunOverrides): Resolved {
  const entrypoint = o.entrypoint === undefined ? image.entrypoint : o.entrypoint === '' ? [] : [o.entrypoint];
  const cmd = o.cmd && o.cmd.length > 0 ? o.cmd : o.entrypoint === undefined ? image.cmd : [];
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0)
    throw new TsprocError('no command: the image has no Entrypoint or Cmd, and none was given', { code: 'EINVAL', exitCode: 125 });
  return { argv, env: mergeEnv(image.env, o.env ?? []), workdir: o.workdir || image.workingDir || '/', user: o.user ?? image.user };
}

/** K=V lists merged by key, later ones winning, in first-seen order. */
export function mergeEnv(...lists: string[][]): string[] {
  const byKey = new Map<string, string>();
  for (const list of lists) for (const kv of list) byKey.set(kv.split('=')[0]!, kv);
  return [...byKey.values()];
}
