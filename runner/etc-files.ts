// The three /etc files a container gets from its state directory: hosts, hostname, resolv.conf.
import { readFileSync } from 'node:fs';
import type { RunPlan } from './plan.js';

/** systemd-resolved's list of the real upstream servers, next to its 127.0.0.53 stub. */
export const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // missing, or a symlink to nothing (systemd-resolved's stub-resolv.conf when it is down)
  }
};

/**
 * The host's resolver configuration for a container, as docker picks it: /etc/resolv.conf, unless it
 * is unreadable (a dangling symlink) or, for a container with a network of its own, names only
 * systemd-resolved's stub 127.0.0.53 (the container's own loopback there): then systemd-resolved's
 * upstream list. Neither: none.
 */
export function hostResolvConf(net: RunPlan['net'], read: (path: string) => string | undefined = readText): string | undefined {
  const own = read('/etc/resolv.conf');
  const servers = [...(own ?? '').matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]);
  const stubOnly = servers.length > 0 && servers.every((s) => s === '127.0.0.53');
  if (own !== undefined && (net === 'host' || !stubOnly)) return own;
  return read(RESOLVED_UPSTREAM) ?? own;
}

export function etcFiles(plan: RunPlan, hostResolvConf: string | undefined): Record<string, string> {
  const hosts = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...plan.hosts.map((h) => `${h.ip}\t${h.name}`),
  ];
  return {
    hosts: hosts.join('\n') + '\n',
    hostname: `${plan.hostname}\n`,
    // with no network of its own a container still gets the host's resolvers, as docker does
    'resolv.conf': hostResolvConf ?? '',
  };
}
