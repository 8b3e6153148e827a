// deploy/'s files as tests read them: the Dockerfile's final stage and ENTRYPOINT, the Kubernetes
// manifests parsed, and the DaemonSet's tsproc container.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));

/** A manifest as plain data (one YAML document). */
export function manifest(name: 'daemonset.yaml' | 'example-pod.yaml'): Record<string, any> {
  return YAML.parse(readFileSync(`${DEPLOY}kubernetes/${name}`, 'utf8')) as Record<string, any>;
}

/** The Dockerfile's instructions (continuation lines joined, comments left out), each as [INSTRUCTION, rest]. */
export function dockerfile(): Array<[string, string]> {
  return readFileSync(`${DEPLOY}docker/Dockerfile`, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l)!;
      return [m[1]!.toUpperCase(), m[2]!];
    });
}

/** The final stage's ENTRYPOINT, in exec form (a JSON array). */
export function dockerEntrypoint(): string[] {
  const entry = dockerfile()
    .filter(([i]) => i === 'ENTRYPOINT')
    .at(-1);
  if (!entry) throw new Error('the Dockerfile has no ENTRYPOINT');
  return JSON.parse(entry[1]) as string[];
}

export interface DaemonSetContainer {
  args: string[];
  readiness: string[];
  privileged: boolean;
  hostPID: boolean;
  /** each volume's host path, where it is mounted, and how */
  mounts: Array<{ hostPath: string; mountPath: string; readOnly: boolean; propagation: string | undefined }>;
}

/** The DaemonSet's tsproc container, with what its pod spec gives it. */
export function daemonSetContainer(): DaemonSetContainer {
  const spec = manifest('daemonset.yaml').spec.template.spec;
  const c = spec.containers.find((x: { name: string }) => x.name === 'tsproc');
  const volumes = new Map<string, string>(spec.volumes.map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]));
  return {
    args: c.args ?? [],
    readiness: c.readinessProbe.exec.command,
    privileged: c.securityContext?.privileged === true,
    hostPID: spec.hostPID === true,
    mounts: c.volumeMounts.map((m: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }) => ({
      hostPath: volumes.get(m.name)!,
      mountPath: m.mountPath,
      readOnly: m.readOnly === true,
      propagation: m.mountPropagation,
    })),
  };
}
