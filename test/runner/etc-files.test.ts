// The host's resolv.conf a container gets: docker's choice around systemd-resolved (files faked here).
import t from 'tap';
import { hostResolvConf, RESOLVED_UPSTREAM } from '../../runner/etc-files.js';

const host = (files: Record<string, string>) => (path: string) => files[path];
const STUB = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n';
const UPSTREAM = 'nameserver 192.168.1.1\nsearch lan\n';

t.test('an ordinary /etc/resolv.conf is used as it is', async (t) => {
  t.equal(
    hostResolvConf('none', host({ '/etc/resolv.conf': 'nameserver 10.0.0.2\n', [RESOLVED_UPSTREAM]: UPSTREAM })),
    'nameserver 10.0.0.2\n',
  );
});

t.test('systemd-resolved', async (t) => {
  t.equal(hostResolvConf('none', host({ [RESOLVED_UPSTREAM]: UPSTREAM })), UPSTREAM, 'a dangling /etc/resolv.conf: the upstream list');
  t.equal(hostResolvConf('host', host({ [RESOLVED_UPSTREAM]: UPSTREAM })), UPSTREAM, 'so with --net host too');
  t.equal(
    hostResolvConf('none', host({ '/etc/resolv.conf': STUB, [RESOLVED_UPSTREAM]: UPSTREAM })),
    UPSTREAM,
    "the stub alone means the container's own loopback: the upstream list",
  );
  t.equal(hostResolvConf('host', host({ '/etc/resolv.conf': STUB, [RESOLVED_UPSTREAM]: UPSTREAM })), STUB, '--net host reaches the stub');
  t.equal(hostResolvConf('none', host({ '/etc/resolv.conf': STUB })), STUB, 'no upstream list: the stub rather than nothing');
  t.equal(
    hostResolvConf('none', host({ '/etc/resolv.conf': `${STUB}nameserver 10.0.0.2\n`, [RESOLVED_UPSTREAM]: UPSTREAM })),
    `${STUB}nameserver 10.0.0.2\n`,
    'another server beside the stub: as it is',
  );
  t.equal(hostResolvConf('none', host({})), undefined, 'nothing at all: none (an empty file)');
});
