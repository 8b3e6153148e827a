// The three /etc files a container gets from its state directory: hosts, hostname, resolv.conf.
import type { RunPlan } from './plan.js';

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
