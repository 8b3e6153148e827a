// docker's capability rules: the default set, --cap-add, --cap-drop, ALL, --privileged.
import t from 'tap';
import { CAPABILITIES, capabilityMask, capabilitySet, DEFAULT_CAPABILITIES } from '../../runner/capabilities.js';

t.test('numbers follow linux/capability.h', async (t) => {
  t.equal(CAPABILITIES.indexOf('CAP_CHOWN'), 0);
  t.equal(CAPABILITIES.indexOf('CAP_SYS_ADMIN'), 21);
  t.equal(CAPABILITIES.indexOf('CAP_CHECKPOINT_RESTORE'), 40);
  t.equal(capabilityMask(['CAP_CHOWN', 'CAP_KILL']), 0b100001n);
});

t.test('defaults, adds and drops', async (t) => {
  t.equal(capabilitySet([], [], false).length, 14);
  t.same(new Set(capabilitySet([], [], false)), new Set(DEFAULT_CAPABILITIES));
  t.ok(capabilitySet(['sys_admin'], [], false).includes('CAP_SYS_ADMIN'), 'lower case, no prefix');
  t.notOk(capabilitySet([], ['CAP_NET_RAW'], false).includes('CAP_NET_RAW'));
  t.same(capabilitySet(['KILL'], ['ALL'], false), ['CAP_KILL'], 'drop ALL then add one');
  t.equal(capabilitySet(['ALL'], [], false).length, CAPABILITIES.length);
  t.equal(capabilitySet([], ['ALL'], true).length, CAPABILITIES.length, '--privileged keeps everything');
  t.throws(() => capabilitySet(['NET_FLY'], [], false), { message: '--cap-add: unknown capability "NET_FLY"', exitCode: 125 });
});
