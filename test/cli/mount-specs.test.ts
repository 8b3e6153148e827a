// `tsproc mounts` formats: OCI mounts, docker --mount flags and Kubernetes YAML, each binding the 8 files.
import t from 'tap';
import { parse } from 'yaml';
import { dockerFlags, k8sSnippet, renderMounts } from '../../src/cli/mount-specs.js';
import { EXPECTED_FILES } from '../helpers/served-files.js';

/** Kubernetes' DNS-1123 label (a volume's name): at most 63 lower-case letters, digits and '-', alphanumeric at both ends. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

t.test('oci: a JSON array of read-only file binds, one per served file, from DIR', async (t) => {
  const mounts = JSON.parse(renderMounts('oci', '/var/lib/tsproc')) as unknown[];
  t.equal(mounts.length, 8);
  t.same(mounts[3], {
    destination: '/proc/meminfo',
    type: 'bind',
    source: '/var/lib/tsproc/proc/meminfo',
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  });
  t.same(mounts[7], {
    destination: '/sys/devices/system/cpu/online',
    type: 'bind',
    source: '/var/lib/tsproc/sys/devices/system/cpu/online',
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  });
  t.same(
    mounts.map((m) => (m as { destination: string }).destination),
    EXPECTED_FILES.map((f) => `/${f}`),
  );
  t.ok(
    mounts.every((m) => (m as { options: string[] }).options.includes('ro')),
    'every one read-only',
  );
  // any path is fine in JSON: a quote, a space, a newline
  const odd = '/srv/my "views"\n';
  t.equal((JSON.parse(renderMounts('oci', odd)) as { source: string }[])[0]!.source, `${odd}/proc/cpuinfo`);
});

t.test('docker: one line of --mount flags, split by the shell into 16 words', async (t) => {
  const line = renderMounts('docker', '/var/lib/tsproc');
  t.equal(line.split('\n').length, 2, 'one line and its newline');
  const words = line.trim().split(/\s+/);
  t.equal(words.length, 16);
  t.same(
    words.filter((_, i) => i % 2 === 0),
    Array(8).fill('--mount'),
  );
  t.equal(words[7], 'type=bind,source=/var/lib/tsproc/proc/meminfo,target=/proc/meminfo,readonly');
  t.same(
    words.filter((_, i) => i % 2 === 1),
    EXPECTED_FILES.map((f) => `type=bind,source=/var/lib/tsproc/${f},target=/${f},readonly`),
  );
});

t.test('docker: a DIR that $(...) would split or glob, or --mount would cut, is refused by name', async (t) => {
  for (const dir of [
    '/srv/my views',
    '/srv/a,b',
    '/srv/v*',
    '/srv/v?',
    '/srv/[v]',
    '/srv/"v"',
    "/srv/'v'",
    '/srv/v\n',
    '/srv/v\t',
    '/srv/$v',
    '/srv/v\\',
  ]) {
    t.throws(() => dockerFlags(dir), { code: 'EINVAL', path: dir, message: /^--format docker: .* holds a character/ }, JSON.stringify(dir));
  }
  t.match(dockerFlags('/run/ts-proc_1.2/@x+y=z:w%~'), /^--mount type=bind,source=\/run\/ts-proc_1\.2\/@x\+y=z:w%~\/proc\/cpuinfo,/);
});

t.test('k8s: volumes (hostPath, type File) and read-only volumeMounts, named with DNS labels', async (t) => {
  const doc = parse(renderMounts('k8s', '/var/lib/tsproc')) as {
    volumes: { name: string; hostPath: { path: string; type: string } }[];
    volumeMounts: { name: string; mountPath: string; readOnly: boolean }[];
  };
  t.same(Object.keys(doc), ['volumes', 'volumeMounts']);
  t.same(doc.volumes[3], { name: 'tsproc-proc-meminfo', hostPath: { path: '/var/lib/tsproc/proc/meminfo', type: 'File' } });
  t.same(doc.volumeMounts[3], { name: 'tsproc-proc-meminfo', mountPath: '/proc/meminfo', readOnly: true });
  t.same(
    doc.volumeMounts.map((m) => m.mountPath),
    EXPECTED_FILES.map((f) => `/${f}`),
  );
  t.same(
    doc.volumes.map((v) => v.hostPath),
    EXPECTED_FILES.map((f) => ({ path: `/var/lib/tsproc/${f}`, type: 'File' })),
  );
  t.same(
    doc.volumes.map((v) => v.name),
    doc.volumeMounts.map((m) => m.name),
    'each mount names its volume',
  );
  for (const v of doc.volumes) t.match(v.name, DNS_LABEL, `${v.name}: a DNS label`);
  t.equal(new Set(doc.volumes.map((v) => v.name)).size, 8, 'names differ');
});

t.test('k8s: a DIR with what YAML reads as syntax comes back as it was', async (t) => {
  const dir = '/srv/a: b #c "d" \\e';
  const doc = parse(k8sSnippet(dir)) as { volumes: { hostPath: { path: string } }[] };
  t.equal(doc.volumes[0]!.hostPath.path, `${dir}/proc/cpuinfo`);
});
