// What the rest of tsproc uses of images: the store, import, removal, gc, and preparing a container's root.
export { ImageStore, type ImageRecord, type LayerInfo } from './store.js';
export { importImage, type ImportOptions, type ImportResult } from './import-image.js';
export { removeImages, type RmiResult } from './remove-image.js';
export { collectGarbage, type GcResult } from './gc.js';
export { type ContainerRef, type ContainerRefs, noContainers } from './container-refs.js';
export { Staging } from './staging.js';
export { StorePaths } from './store-paths.js';
export { applyImageConfig, mergeEnv, type ImageConfig, type Resolved, type RunOverrides } from './image-config.js';
export {
  chooseDriver,
  plannedRoot,
  prepareContainerRoot,
  removeContainerRoot,
  containerRootPaths,
  overlayMountData,
  overlayRoot,
  type ContainerRoot,
  type DriverChoice,
  type DirRoot,
  type EtcFiles,
  type OverlayRoot,
  type PrepareOptions,
  type PreparedRoot,
  type StorageDriver,
} from './prepare-root.js';
