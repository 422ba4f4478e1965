// @trellis/control-plane-k8s: the Kubernetes API as a source of mesh config.
export { kubernetesSource } from './kubernetes-source.js';
export type {
  KubernetesSource,
  KubernetesSourceLogger,
  KubernetesSourceOptions,
} from './kubernetes-source.js';
export { loadKubeConfig } from './kube-config.js';
export type { KubeConfigOptions } from './kube-config.js';
export type { KubernetesSourceState } from './source-state.js';
export type { PodIndex, PodInfo } from './pod-index.js';
export type { BackoffOptions } from './backoff.js';
export type { ResourceKey, WatchedResource } from './watched-resources.js';
export { TRELLIS_GROUP, TRELLIS_VERSION, WATCHED_RESOURCES } from './watched-resources.js';
export { APP_PROTOCOLS } from './translate-services.js';
export { K8S_ISSUE_CODES, KubernetesSourceError } from './errors.js';
export type { K8sIssueCode, KubernetesSourceErrorCode } from './errors.js';
