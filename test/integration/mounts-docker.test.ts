// Debian's docker.io, a daemon of the test's own: `docker run ... $(tsproc mounts --format docker DIR)` as
// the README writes it, in a script; free, top, cpuinfo and Node's os.totalmem() and os.cpus() inside
// see --memory and --cpus (served by tsproc), and without the mounts the host's figures.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, symlinkSync } from 'node:fs';
import { checkFigures, FIGURES_SCRIPT, figures, hostMemTotal } from '../helpers/clients.js';
import { BIN, startDaemon } from '../helpers/daemon.js';
import { CONTAINERD, DOCKER, DOCKERD, startDockerd, type Dockerd } from '../helpers/dockerd.js';
import { cannotRun, tempDir, usrRoot } from '../helpers/runner.js';

const MiB = 1024 * 1024;
const RUN_LIMIT_MS = 120_000;

const missing = [DOCKER, DOCKERD, CONTAINERD].filter((f) => !existsSync(f));
const skip =
  cannotRun() ??
  (missing.length > 0 ? `docker.io is not installed (no ${missing.join(', ')})` : undefined) ??
  (existsSync('/usr/bin/free') ? undefined : 'procps is not installed');

/** The host's network interfaces: dockerd, started with --bridge=none and --network none containers, must add none. */
const links = () =>
  (spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '')
    .split('\n')
    .map((l) => l.split(': ')[1])
    .filter(Boolean)
    .sort();
/** The host's iptables rules (none when iptables is not installed): --iptables=false must add none. */
const rules = () => (existsSync('/usr/sbin/iptables') ? spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout : '');

if (skip) {
  t.plan(0, skip);
} else {
  const linksBefore = links();
  const rulesBefore = rules();
  const started = await startDockerd();
  if (!started.ok) {
    t.plan(0, `dockerd cannot start here: ${started.why}`);
  } else {
    await tests(started.dockerd, linksBefore, rulesBefore);
  }
}

async function tests(d: Dockerd, linksBefore: string[], rulesBefore: string): Promise<void> {
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await d.stop();
  });

  // An image of an empty usr-merged root (bin -> usr/bin, ...): the host's /usr is bound read-only at run time.
  const image = `tsproc-test-usr-${d.cgroupParent.replace(/^tsproc-test-docker-/, '')}`;
  t.before(async () => {
    const tar = `${tempDir(t, 'docker-image')}/usr.tar`;
    const made = spawnSync('tar', ['-C', usrRoot(t), '-cf', tar, '.'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`tar: ${made.stderr}`);
    const imported = d.docker(['import', tar, image]);
    if (imported.status !== 0) throw new Error(`docker import: ${imported.stderr}`);
  });

  /** A shell script run as a user's script would: `tsproc` and Debian's `docker` on PATH, DOCKER_HOST set. */
  const script = (text: string, vars: Record<string, string>) => {
    const bin = tempDir(t, 'docker-bin');
    symlinkSync(BIN, `${bin}/tsproc`);
    symlinkSync(DOCKER, `${bin}/docker`);
    const r = spawnSync('sh', ['-c', text], {
      encoding: 'utf8',
      timeout: RUN_LIMIT_MS,
      env: { ...d.env, ...vars, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  const node = realpathSync(process.execPath);
  const NODE_SCRIPT = 'const os = require("os"); console.log(JSON.stringify({ totalmem: os.totalmem(), cpus: os.cpus().length }))';

  t.test("free, top, cpuinfo and Node see --memory 256m --cpus 1 through tsproc's files", async (t) => {
    const daemon = await startDaemon(t);
    const vars = { DIR: daemon.dir, IMAGE: image, FIGURES: FIGURES_SCRIPT, NODE: node, NODE_SCRIPT };
    // as the README has it, the flags unquoted in $(...); node from the host's /usr (it is /usr/bin/node on Debian)
    const run = (mounts: string, cmd: string) =>
      script(`docker run --rm --network none --memory 256m --cpus 1 -v /usr:/usr:ro ${mounts} "$IMAGE" ${cmd}`, vars);
    checkFigures(t, run('$(tsproc mounts --format docker "$DIR")', 'sh -c "$FIGURES"'), 256 * MiB);
    if (node.startsWith('/usr/')) {
      // libuv reads MemTotal of /proc/meminfo for os.totalmem(), /proc/stat and /proc/cpuinfo for os.cpus()
      const js = run('$(tsproc mounts --format docker "$DIR")', '"$NODE" -e "$NODE_SCRIPT"');
      t.equal(js.status, 0, js.stderr);
      t.same(JSON.parse(js.stdout), { totalmem: 256 * MiB, cpus: 1 }, 'Node: os.totalmem() 256 MiB, os.cpus() one');
    } else {
      t.comment(`Node's os.totalmem() not checked: ${node} is not under /usr, which the container binds`);
    }
    const bare = run('', 'sh -c "$FIGURES"');
    t.equal(bare.status, 0, bare.stderr);
    t.equal(figures(bare.stdout).free, hostMemTotal(), "without tsproc's mounts: the host's total");
  });

  t.test('--mount refuses a missing source: nothing served at DIR, the container does not start', async (t) => {
    const empty = tempDir(t, 'docker-nomount');
    const r = script('docker run --rm --network none $(tsproc mounts --format docker "$DIR") "$IMAGE" true', { DIR: empty, IMAGE: image });
    t.not(r.status, 0);
    t.match(r.stderr, /bind source path does not exist/);
  });

  t.test('dockerd stops and leaves nothing behind: no process, mount, cgroup, directory, interface or iptables rule', async (t) => {
    t.same(d.docker(['ps', '-aq']).stdout, '', 'no container left (--rm)');
    stopped = true;
    t.same(await d.stop(), []);
    t.same(links(), linksBefore, 'the same network interfaces');
    t.equal(rules(), rulesBefore, 'the same iptables rules');
  });
}
