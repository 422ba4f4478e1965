// Typed errors of the Kubernetes source and the stable codes of the issues it reports.

/** Issue codes this source adds to the config issue stream, and what each means. */
export const K8S_ISSUE_CODES = {
  TRL_K8S_API:
    'Listing or watching a Kubernetes resource failed (HTTP status or network error) and is retried with backoff. An error until the resource has been listed once (its documents are unknown), a warning afterwards (the objects listed before stay in use).',
  TRL_K8S_CRD_MISSING:
    'Warning: the API server does not serve a Trellis CRD (HTTP 404), so its kind is read as empty; retried with backoff.',
  TRL_K8S_UNSUPPORTED:
    'Warning: a Kubernetes object Trellis cannot represent was skipped (ExternalName Service, FQDN EndpointSlice).',
  TRL_K8S_APP_PROTOCOL:
    'Warning: a Service port has an appProtocol Trellis does not know; the port is treated as http1.',
  TRL_K8S_TARGET_PORT:
    'Warning: a named targetPort resolves to different port numbers across EndpointSlices; the most common one is used.',
} as const;

export type K8sIssueCode = keyof typeof K8S_ISSUE_CODES;

export type KubernetesSourceErrorCode =
  /** The kubeconfig has no current cluster to talk to. */
  | 'TRL_K8S_NO_CLUSTER'
  /** An option of kubernetesSource() is out of range. */
  | 'TRL_K8S_INVALID_OPTION'
  /** A list request got no answer in time. */
  | 'TRL_K8S_LIST_TIMEOUT'
  /** A watch ended cleanly right after it opened, without a single event: retried with backoff. */
  | 'TRL_K8S_SHORT_WATCH'
  /** The source was stopped while a request was in flight; its answer is dropped. */
  | 'TRL_K8S_STOPPED';

export class KubernetesSourceError extends Error {
  readonly code: KubernetesSourceErrorCode;

  constructor(code: KubernetesSourceErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KubernetesSourceError';
    this.code = code;
  }
}
