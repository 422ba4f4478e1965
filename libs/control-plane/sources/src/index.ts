// @trellis/control-plane-sources: where mesh config comes from.
export type { ConfigSource, SourceState } from './config-source.js';
export type { FolderSourceOptions } from './folder-source.js';
export { folderSource, readFolderState } from './folder-source.js';
