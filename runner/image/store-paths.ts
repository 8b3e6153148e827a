// Where the image store keeps things under the data root (the one place that knows the layout).
//
//   DATA_ROOT/layers/sha256/<diff_id hex>/diff/        a layer, unpacked once, shared by every image that has it
//   DATA_ROOT/layers/sha256/<diff_id hex>/layer.json   its size, whiteouts and opaque directories
//   DATA_ROOT/images/sha256/<image id hex>/config.json the image's config blob, byte for byte (id = its sha256)
//   DATA_ROOT/images/sha256/<image id hex>/image.json  when and from where it was imported, its size
//   DATA_ROOT/images/names/<name:tag, URI-encoded>     one file per name, holding the image id
//   DATA_ROOT/tmp/                                     imports in progress and removals under way
import { join } from 'node:path';
import { type Digest, hexOf } from './digest-name.js';

export class StorePaths {
  constructor(readonly dataRoot: string) {}

  get layers(): string {
    return join(this.dataRoot, 'layers', 'sha256');
  }
  layer(diffId: Digest): string {
    return join(this.layers, hexOf(diffId));
  }
  layerDiff(diffId: Digest): string {
    return join(this.layer(diffId), 'diff');
  }
  get images(): string {
    return join(this.dataRoot, 'images', 'sha256');
  }
  image(id: Digest): string {
    return join(this.images, hexOf(id));
  }
  get names(): string {
    return join(this.dataRoot, 'images', 'names');
  }
  name(ref: string): string {
    return join(this.names, encodeURIComponent(ref));
  }
  get tmp(): string {
    return join(this.dataRoot, 'tmp');
  }
}
