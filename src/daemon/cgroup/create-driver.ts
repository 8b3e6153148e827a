// Picks the cgroup driver for the host's layout.
import type { FileSource } from '../io/file-source.js';
import type { CgroupDriver } from './driver.js';
import type { CgroupLayout } from '../../cgroup-layout.js';
import { V1Driver } from './v1-driver.js';
import { V2Driver } from './v2-driver.js';

export interface DriverOptions {
  files: FileSource;
  /** v1: where each controller is mounted; v2: the cgroup2 mountpoint. Tests give fixture directories. */
  layout: CgroupLayout;
}

/** The driver for a layout: v2 for a pure v2 host, v1 for v1 and hybrid (hybrid's v2 tree has no controllers). */
export function createDriver(o: DriverOptions): CgroupDriver {
  return o.layout.kind === 'v2' ? new V2Driver(o.files, o.layout.unified!) : new V1Driver(o.files, o.layout.v1);
}
