// What `tsproc mounts` prints: binds of the served files over a container's own, for runc (OCI
// config.json), docker or podman (--mount flags) and Kubernetes (volumes, volumeMounts). Pure.
import { posix } from 'node:path';
import { TsprocError } from '../errors.js';
import { SERVED_PATHS } from '../served-files.js';

export const MOUNT_FORMATS = ['oci', 'docker', 'k8s'] as const;
export type MountFormat = (typeof MOUNT_FORMATS)[number];

/** One file of the mount at DIR (source) over the container's file of the same path below / (target). */
interface Bind {
  source: string;
  target: string;
  /** a DNS label, as Kubernetes wants a volume's name */
  name: string;
}

function binds(dir: string): Bind[] {
  return SERVED_PATHS.map((f) => ({ source: posix.join(dir, f), target: `/${f}`, name: `tsproc-${f.replaceAll('/', '-')}` }));
}

/** A mount of the OCI runtime spec (config.json `mounts`). */
export interface OciMount {
  destination: string;
  type: 'bind';
  source: string;
  options: string[];
}

/**
 * What docker gives runc for `--mount type=bind,...,readonly` ("rbind", "ro"), and nosuid, nodev,
 * noexec: nothing in these files is run. runc allows binds under /proc for exactly these files (lxcfs's).
 */
export function ociMounts(dir: string): OciMount[] {
  return binds(dir).map((b) => ({
    destination: b.target,
    type: 'bind',
    source: b.source,
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  }));
}

/** Characters that survive the shell's splitting and globbing of an unquoted $(...), and docker's comma-separated --mount. */
const PLAIN_PATH = /^[A-Za-z0-9_./@%+=:~-]+$/;

/** One line of `--mount` flags: unlike -v, --mount refuses a missing source rather than making a directory there. */
export function dockerFlags(dir: string): string {
  if (!PLAIN_PATH.test(dir)) {
    throw new TsprocError(
      `--format docker: ${JSON.stringify(dir)} holds a character that an unquoted $(...) would split or expand, or that docker's --mount reads as a separator; use a path of letters, digits and _ . / @ % + = : ~ - (or --format oci)`,
      { code: 'EINVAL', path: dir },
    );
  }
  return binds(dir)
    .map((b) => `--mount type=bind,source=${b.source},target=${b.target},readonly`)
    .join(' ');
}

/** YAML for a pod: `volumes` (hostPath, type File: the file must exist) and read-only `volumeMounts`. Paths are quoted (JSON strings are YAML). */
export function k8sSnippet(dir: string): string {
  const all = binds(dir);
  return [
    "# tsproc's files: `volumes` go in the pod's spec, `volumeMounts` in each container's",
    'volumes:',
    ...all.flatMap((b) => [`- name: ${b.name}`, '  hostPath:', `    path: ${JSON.stringify(b.source)}`, '    type: File']),
    'volumeMounts:',
    ...all.flatMap((b) => [`- name: ${b.name}`, `  mountPath: ${JSON.stringify(b.target)}`, '  readOnly: true']),
  ].join('\n');
}

/** The text `tsproc mounts` prints for DIR (an absolute path), ending in a newline. */
export function renderMounts(format: MountFormat, dir: string): string {
  switch (format) {
    case 'oci':
      return `[\n${ociMounts(dir)
        .map((m) => `  ${JSON.stringify(m)}`)
        .join(',\n')}\n]\n`;
    case 'docker':
      return `${dockerFlags(dir)}\n`;
    case 'k8s':
      return `${k8sSnippet(dir)}\n`;
  }
}
