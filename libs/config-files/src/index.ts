// @trellis/config-files: Trellis config documents from the file system.
export type { ConfigFile, ReadConfigResult } from './read-config-paths.js';
export { isConfigFileName, readConfigPaths } from './read-config-paths.js';
export type { TreeWatcher, WatchTreeOptions } from './watch-tree.js';
export { watchTree } from './watch-tree.js';
