// Before `npm test`: build, make tap's runner match our plugin list, and install the Debian packages
// the tests use when they are missing (as root on Debian; elsewhere the tests that need them say why they skip).
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });

// tap compiles its plugins into its runner; ours leaves out @tapjs/typescript (tests run compiled).
const built = new URL('../node_modules/@tapjs/test/test-built/dist/esm/index.js', import.meta.url);
if (!existsSync(built) || readFileSync(built, 'utf8').includes('@tapjs/typescript')) {
  execFileSync('npx', ['tap', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const wanted = {
  lxcfs: '/usr/bin/lxcfs',
  runc: '/usr/sbin/runc',
  'busybox-static': '/bin/busybox',
  umoci: '/usr/bin/umoci',
  fuse3: '/usr/bin/fusermount3',
  procps: '/usr/bin/top',
  attr: '/usr/bin/setfattr',
  zstd: '/usr/bin/zstd',
  'openjdk-17-jre-headless': '/usr/bin/java',
  python3: '/usr/bin/python3',
  strace: '/usr/bin/strace',
  // dockerd, with containerd and runc as its dependencies (test/integration/mounts-docker)
  'docker.io': '/usr/sbin/dockerd',
  // systemd-analyze verify of deploy/systemd/tsproc.service (test/deploy/systemd-unit)
  systemd: '/usr/bin/systemd-analyze',
};
const missing = Object.entries(wanted)
  .filter(([, path]) => !existsSync(path))
  .map(([pkg]) => pkg);
if (missing.length > 0 && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  process.stderr.write(`pretest: installing ${missing.join(' ')}\n`);
  execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')} >/dev/null`, {
    stdio: 'inherit',
  });
}
