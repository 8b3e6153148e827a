// A private Docker daemon for a test: its own containerd, data-root, exec-root, socket and cgroup parent
// under tsproc-test names, no bridge, no iptables, no ip_forward; stopped and removed by `stop`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cgroupsNamed, mountsWith, removeCgroups } from './clients.js';

/** Debian's docker.io client (another docker may come first on PATH). */
export const DOCKER = '/usr/bin/docker';
export const DOCKERD = '/usr/sbin/dockerd';
export const CONTAINERD = '/usr/bin/containerd';

/** Limits for hangs, not speed. */
const START_LIMIT_MS = 60_000;
const STOP_LIMIT_MS = 30_000;

/**
 * Made outside our directories by the daemons whatever their flags: dockerd's plugin sockets directory,
 * containerd's shim sockets directory. Removed at the end when they were not there before and are empty.
 */
const FIXED_DIRS = ['/run/docker/plugins', '/run/docker', '/run/containerd/s', '/run/containerd'];

export interface Dockerd {
  /** the directory holding everything of this daemon (/tmp/tsproc-test-docker-...) */
  base: string;
  /** the cgroup parent of its containers (a name below each hierarchy's root) */
  cgroupParent: string;
  /** environment for the docker client: DOCKER_HOST of this daemon */
  env: NodeJS.ProcessEnv;
  /** `docker ARGS` against this daemon, to completion */
  docker(args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** stop dockerd and containerd, remove what they made; resolves with what could not be removed */
  stop(): Promise<string[]>;
}

export type Started = { ok: true; dockerd: Dockerd } | { ok: false; why: string };

const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

async function stopProcess(p: ChildProcess): Promise<void> {
  if (!alive(p)) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const done = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), STOP_LIMIT_MS).unref()),
  ]);
  if (!done) {
    p.kill('SIGKILL');
    await exited;
  }
}

/** Processes whose command line names `text` (containerd's shims carry our socket's path). */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^[0-9]+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n') : '(no log)');

export async function startDockerd(): Promise<Started> {
  const base = mkdtempSync('/tmp/tsproc-test-docker-');
  chmodSync(base, 0o711);
  const cgroupParent = `tsproc-test-docker-${process.pid}-${randomBytes(3).toString('hex')}`;
  const made = FIXED_DIRS.filter((d) => !existsSync(d));
  const keyBefore = existsSync('/etc/docker/key.json');
  const sock = `${base}/docker.sock`;
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}` };
  // containerd of our own: dockerd would otherwise use a system one at /run/containerd if one ran
  writeFileSync(
    `${base}/containerd.toml`,
    [
      'version = 2',
      `root = "${base}/containerd/root"`,
      `state = "${base}/containerd/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${base}/containerd.sock"`,
      '[ttrpc]',
      `  address = "${base}/containerd.sock.ttrpc"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${base}/containerd/opt"`,
      '',
    ].join('\n'),
  );
  // not /etc/docker/daemon.json; and its trust key here, not in /etc/docker/key.json
  writeFileSync(`${base}/daemon.json`, JSON.stringify({ 'deprecated-key-path': `${base}/key.json` }));
  const containerd = spawn(CONTAINERD, ['--config', `${base}/containerd.toml`], {
    stdio: ['ignore', openSync(`${base}/containerd.log`, 'a'), openSync(`${base}/containerd.log`, 'a')],
  });
  let dockerd: ChildProcess | undefined;
  const docker = (args: string[], timeoutMs = START_LIMIT_MS) => {
    const r = spawnSync(DOCKER, args, { encoding: 'utf8', env, timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  const stop = async (): Promise<string[]> => {
    if (dockerd) await stopProcess(dockerd);
    await stopProcess(containerd);
    for (const pid of processesWith(`${base}/`)) process.kill(pid, 'SIGKILL');
    for (const line of mountsWith(base).reverse()) spawnSync('umount', ['-l', line.split(' ')[4]!]);
    await removeCgroups(cgroupParent);
    rmSync(base, { recursive: true, force: true });
    for (const d of made) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: someone else's daemon uses it now
      }
    }
    const left = [
      ...processesWith(`${base}/`).map((p) => `process: ${p}`),
      ...mountsWith(base).map((l) => `mount: ${l}`),
      ...cgroupsNamed(cgroupParent).map((d) => `cgroup: ${d}`),
      ...made.filter((d) => existsSync(d)).map((d) => `directory: ${d}`),
      ...(existsSync(base) ? [`directory: ${base}`] : []),
      ...(!keyBefore && existsSync('/etc/docker/key.json') ? ['file: /etc/docker/key.json'] : []),
    ];
    return left;
  };

  /** Why it did not start, with the end of the log of the daemon that failed. */
  const fail = async (why: string, daemon: 'containerd' | 'dockerd'): Promise<Started> => {
    const log = tail(`${base}/${daemon}.log`);
    await stop();
    return { ok: false, why: `${why}; the end of its log:\n${log}` };
  };

  for (const end = Date.now() + START_LIMIT_MS; !existsSync(`${base}/containerd.sock`);) {
    if (!alive(containerd)) return fail(`containerd exited (${containerd.exitCode ?? containerd.signalCode})`, 'containerd');
    if (Date.now() > end) return fail(`containerd did not listen within ${START_LIMIT_MS / 1000} s`, 'containerd');
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = openSync(`${base}/dockerd.log`, 'a');
  dockerd = spawn(
    DOCKERD,
    [
      '--config-file',
      `${base}/daemon.json`,
      '--data-root',
      `${base}/data`,
      '--exec-root',
      `${base}/exec`,
      '--host',
      `unix://${sock}`,
      '--pidfile',
      `${base}/docker.pid`,
      '--containerd',
      `${base}/containerd.sock`,
      '--cgroup-parent',
      `/${cgroupParent}`,
      // no docker0, no iptables rules, no change to the host's net.ipv4.ip_forward
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--userland-proxy=false',
    ],
    { stdio: ['ignore', log, log] },
  );
  for (const end = Date.now() + START_LIMIT_MS; docker(['version'], 10_000).status !== 0;) {
    if (!alive(dockerd)) return fail(`dockerd exited (${dockerd.exitCode ?? dockerd.signalCode})`, 'dockerd');
    if (Date.now() > end) return fail(`dockerd did not answer within ${START_LIMIT_MS / 1000} s`, 'dockerd');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ok: true, dockerd: { base, cgroupParent, env, docker, stop } };
}
