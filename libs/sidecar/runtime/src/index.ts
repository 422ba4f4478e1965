// @trellis/sidecar-runtime: the config in force in a sidecar, and where it comes from.
export type { Applied, ApplyResult, Rejection, RuntimeBuilder } from './config-holder.js';
export { ConfigHolder } from './config-holder.js';
export type { ConfigView } from './config-view.js';
export { configView } from './config-view.js';
export type { ReloadOutcome, StaticConfigOptions } from './static-config.js';
export { StaticConfig } from './static-config.js';
