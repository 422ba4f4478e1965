// @trellis/control-plane-core: compiles source states into versioned snapshots and serves them.
export type { CompileOptions, CompileResult } from './compile-pipeline.js';
export { DEFAULT_DEBOUNCE_MS, compilePipeline, compileStates } from './compile-pipeline.js';
export { leadingDebounce } from './leading-debounce.js';
export type { ApiRoute, ApiState } from './http-api.js';
export { createApiServer, handleApiRequest } from './http-api.js';
