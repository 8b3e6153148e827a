// `tsproc mounts [--format oci|docker|k8s] [DIR]`: the binds that give a container the files served at DIR.
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_MOUNT_DIR } from '../served-files.js';
import { MOUNT_FORMATS, renderMounts, type MountFormat } from './mount-specs.js';

export function mountsCommand(): Command {
  return new Command('mounts')
    .description(
      "print the binds of DIR's files over a container's own: OCI config.json mounts, docker or podman --mount flags, or Kubernetes volumes (whether or not a daemon serves DIR)",
    )
    .argument('[dir]', 'the mountpoint', DEFAULT_MOUNT_DIR)
    .addOption(
      new Option(
        '--format <format>',
        'oci: a JSON array for config.json "mounts"; docker: one line of --mount flags, for podman too; k8s: YAML volumes and volumeMounts',
      )
        .choices(MOUNT_FORMATS)
        .default('oci'),
    )
    .action((dir: string, opts: { format: MountFormat }) => {
      process.stdout.write(renderMounts(opts.format, resolve(dir)));
    });
}
