// `tsproc mounts` from the command line: its defaults (oci, /var/lib/tsproc), a relative DIR, exit statuses.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { BIN } from '../helpers/daemon.js';

const tsproc = (args: string[], cwd?: string) => spawnSync(process.execPath, ['--', BIN, ...args], { encoding: 'utf8', cwd });

t.test('no flags: OCI mounts of /var/lib/tsproc, exit 0, nothing on stderr, whether or not anything is mounted there', async (t) => {
  const r = tsproc(['mounts']);
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
  const mounts = JSON.parse(r.stdout) as { source: string; destination: string }[];
  t.equal(mounts.length, 8);
  t.same(mounts[0], {
    destination: '/proc/cpuinfo',
    type: 'bind',
    source: '/var/lib/tsproc/proc/cpuinfo',
    options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
  });
});

t.test('a relative DIR is made absolute (runc and docker want absolute sources)', async (t) => {
  const r = tsproc(['mounts', '--format', 'docker', 'views'], '/srv');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^--mount type=bind,source=\/srv\/views\/proc\/cpuinfo,target=\/proc\/cpuinfo,readonly --mount /);
});

t.test('a bad --format: one line naming the choices, exit 1, nothing on stdout', async (t) => {
  const r = tsproc(['mounts', '--format', 'yaml']);
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.equal(r.stderr, "tsproc: option '--format <format>' argument 'yaml' is invalid. Allowed choices are oci, docker, k8s.\n");
});

t.test('--format docker with a DIR the shell would split: refused, exit 1', async (t) => {
  const r = tsproc(['mounts', '--format', 'docker', '/srv/my views']);
  t.equal(r.status, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^tsproc: --format docker: "\/srv\/my views" holds a character that an unquoted \$\(\.\.\.\) would split or expand/);
  t.equal(r.stderr.split('\n').length, 2, 'printed once');
});
