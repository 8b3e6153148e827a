// deploy/kubernetes: the DaemonSet and the example pod validate against the Kubernetes API's schemas
// (the kubernetes-models package's validators: types, enums, required fields) and have no field the
// API does not know (its TypeScript declarations, checked by tsc: the schemas let unknown fields
// through, where the API server's strict field validation refuses them); the DaemonSet has what the
// daemon needs (issue 11) and the example pod binds what `tsproc mounts --format k8s` prints.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Pod } from 'kubernetes-models/v1/Pod';
import { renderMounts } from '../../src/cli/mount-specs.js';
import { DEFAULT_STUCK_TIMEOUT_MS } from '../../src/daemon/mount-daemon.js';
import { DEFAULT_MOUNT_DIR } from '../../src/served-files.js';
import { daemonSetContainer, dockerEntrypoint, dockerfile, manifest } from '../helpers/deploy-files.js';

const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');

/** What kubernetes-models' validator says of the object: undefined if valid, else its message. */
function schemaError(make: () => { validate(): void }): string | undefined {
  try {
    make().validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * tsc's errors for each object assigned to its kind's declared type (an object literal: any property
 * the type does not declare is an error, at any depth). Compiled from a scratch directory under
 * node_modules/.cache, so that `kubernetes-models` resolves.
 */
function unknownFields(t: { teardown(fn: () => void): void }, objects: Array<{ type: 'IDaemonSet' | 'IPod'; value: unknown }>): string {
  mkdirSync(`${CHECKOUT}node_modules/.cache`, { recursive: true });
  const dir = mkdtempSync(`${CHECKOUT}node_modules/.cache/tsproc-test-k8s-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const source = [
    "import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';",
    "import type { IPod } from 'kubernetes-models/v1/Pod';",
    ...objects.map((o, i) => `export const o${i}: ${o.type} = ${JSON.stringify(o.value, null, 1)};`),
  ].join('\n');
  writeFileSync(`${dir}/check.ts`, source);
  writeFileSync(
    `${dir}/tsconfig.json`,
    JSON.stringify({
      compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: [] },
      files: ['check.ts'],
    }),
  );
  // tap puts its loaders in the NODE_OPTIONS of every process a test spawns, and they break tsc's start-up
  const r = spawnSync('/bin/sh', ['-c', 'unset NODE_OPTIONS; exec "$0" "$@"', process.execPath, TSC, '-p', dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status === null) throw new Error(`tsc did not finish: ${r.error?.message ?? r.signal}`);
  return `${r.stdout}${r.stderr}`;
}

const daemonSet = manifest('daemonset.yaml');
const pod = manifest('example-pod.yaml');

t.test("the manifests validate against the Kubernetes schemas (kubernetes-models' validators)", async (t) => {
  t.equal(
    schemaError(() => new DaemonSet(daemonSet as never)),
    undefined,
    'daemonset.yaml',
  );
  t.equal(
    schemaError(() => new Pod(pod as never)),
    undefined,
    'example-pod.yaml',
  );
});

t.test('the validators refuse a broken copy (so passing means something)', async (t) => {
  const bad = structuredClone(daemonSet);
  bad.spec.template.spec.containers[0].volumeMounts.find((m: { mountPropagation?: string }) => m.mountPropagation).mountPropagation =
    'Bidirectionl';
  t.match(
    schemaError(() => new DaemonSet(bad as never)),
    /volumeMounts\/\d+\/mountPropagation must be equal to one of the allowed values/,
  );
  const noSelector = structuredClone(daemonSet);
  delete noSelector.spec.selector;
  t.match(
    schemaError(() => new DaemonSet(noSelector as never)),
    /must have required property selector/,
  );
  const badPod = structuredClone(pod);
  badPod.spec.volumes[0].hostPath.type = 'file';
  t.match(
    schemaError(() => new Pod(badPod as never)),
    /hostPath\/type must be equal to one of the allowed values/,
  );
});

t.test('no field the API does not know (tsc against the package declarations), and a misspelt one is caught', async (t) => {
  t.equal(
    unknownFields(t, [
      { type: 'IDaemonSet', value: daemonSet },
      { type: 'IPod', value: pod },
    ]),
    '',
    'tsc: no error',
  );
  const typo = structuredClone(daemonSet);
  typo.spec.template.spec.hostPid = typo.spec.template.spec.hostPID;
  delete typo.spec.template.spec.hostPID;
  t.match(unknownFields(t, [{ type: 'IDaemonSet', value: typo }]), /'"hostPid"' does not exist in type 'IPodSpec'/);
});

t.test("the DaemonSet gives the daemon the host's pid namespace, privileges, devices and directories", async (t) => {
  const c = daemonSetContainer();
  const spec = daemonSet.spec.template.spec;
  t.ok(c.hostPID, 'hostPID: true (the daemon refuses to start in a pid namespace of its own)');
  t.ok(c.privileged, 'privileged');
  t.equal(spec.priorityClassName, 'system-node-critical');
  const at = (path: string) => c.mounts.find((m) => m.mountPath === path);
  t.same(at('/dev/fuse'), { hostPath: '/dev/fuse', mountPath: '/dev/fuse', readOnly: false, propagation: undefined });
  t.same(
    at('/sys/fs/cgroup'),
    { hostPath: '/sys/fs/cgroup', mountPath: '/sys/fs/cgroup', readOnly: true, propagation: undefined },
    'the cgroups, read-only',
  );
  t.same(
    at('/run/tsproc'),
    { hostPath: '/run/tsproc', mountPath: '/run/tsproc', readOnly: false, propagation: undefined },
    'the serving records, shared by the old and the new pod',
  );
  // The mount made in the container must reach the host, and so must its unmount: the volume is DIR's
  // parent, at the same path. A volume of DIR itself would be a bind of whatever is mounted there (the
  // old daemon's mount, during an update): mounts on its children propagate, its own unmount does not.
  t.same(
    at(dirname(DEFAULT_MOUNT_DIR)),
    { hostPath: dirname(DEFAULT_MOUNT_DIR), mountPath: dirname(DEFAULT_MOUNT_DIR), readOnly: false, propagation: 'Bidirectional' },
    "DIR's parent, at the same path, Bidirectional",
  );
  t.notOk(
    c.mounts.some((m) => m.mountPath.startsWith(`${DEFAULT_MOUNT_DIR}`)),
    'no volume at DIR or below it',
  );
  t.equal(spec.volumes.find((v: { hostPath: { path: string } }) => v.hostPath.path === '/dev/fuse').hostPath.type, 'CharDevice');
  t.ok(spec.containers[0].resources.requests.cpu && spec.containers[0].resources.requests.memory, 'CPU and memory requests');
  t.notOk(spec.containers[0].resources.limits?.memory, "no memory limit (a cgroup OOM kill would stop every pod's views)");
});

t.test('an update hands the connection over: the new pod first, ready once it serves, the old one staying until deleted', async (t) => {
  t.same(daemonSet.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const entry = dockerEntrypoint();
  t.same(entry.slice(1), ['mount', '--takeover', DEFAULT_MOUNT_DIR], "the image's entrypoint takes over");
  const c = daemonSetContainer();
  t.ok(
    c.args.includes('--stay-after-handover'),
    'the old daemon stays after its hand-over: the kubelet would restart it, and it would take the connection back',
  );
  const pidfile = c.args[c.args.indexOf('--pidfile') + 1];
  t.ok(c.args.includes('--pidfile') && pidfile, '--pidfile FILE');
  t.same(c.readiness, ['/usr/bin/test', '-s', pidfile], 'ready when the pidfile is there: this daemon serves');
  t.notOk(
    daemonSet.spec.template.spec.containers[0].lifecycle?.preStop,
    'no preStop: at SIGTERM a daemon that handed over exits touching nothing',
  );
  // a stop: umount (up to --stuck-timeout), a second for the connection's end, the abort, up to --stuck-timeout more
  const stopWorst = (2 * DEFAULT_STUCK_TIMEOUT_MS) / 1000 + 1;
  t.ok(
    daemonSet.spec.template.spec.terminationGracePeriodSeconds >= stopWorst,
    `terminationGracePeriodSeconds covers a stop's worst case (${stopWorst} s)`,
  );
});

t.test("the Dockerfile: built on Node 20's Debian images, the daemon's production files in the final one", async (t) => {
  const from = dockerfile()
    .filter(([i]) => i === 'FROM')
    .map(([, rest]) => rest.split(/\s+/)[0]);
  t.same(from, ['node:20-bookworm', 'node:20-bookworm-slim'], 'built with the full image (tsc, cc), run on the slim one');
  t.ok(
    dockerfile().some(([i, rest]) => i === 'RUN' && /npm ci\b/.test(rest) && /npm prune --omit=dev/.test(rest)),
    'npm ci (which builds), then the dev dependencies dropped',
  );
});

t.test('the example pod binds exactly what `tsproc mounts --format k8s` prints', async (t) => {
  const printed = YAML.parse(renderMounts('k8s', DEFAULT_MOUNT_DIR)) as { volumes: unknown[]; volumeMounts: unknown[] };
  t.same(pod.spec.volumes, printed.volumes, 'volumes');
  t.same(pod.spec.containers[0].volumeMounts, printed.volumeMounts, 'volumeMounts');
  t.ok(pod.spec.containers[0].resources.limits.memory, 'with a memory limit to see');
});
