// What went wrong with a list or watch, in words an operator can act on: the HTTP status and the
// API server's own Status message, or the network error, and the issue that reports it.
import { STATUS_CODES } from 'node:http';
import type { ConfigIssue } from '@trellis/config';
import { KubernetesSourceError } from './errors.js';
import { resourceName, scopeName } from './watched-resources.js';
import type { WatchedResource } from './watched-resources.js';

export interface ApiFailure {
  /** HTTP status, when the API server answered. */
  readonly status: number | undefined;
  /** `HTTP 403 Forbidden: services is forbidden: ...` or `connect ECONNREFUSED 127.0.0.1:6443`. */
  readonly text: string;
}

/** Longest server message quoted in an issue (Status messages are short; HTML error pages not). */
const MAX_DETAIL = 300;

/**
 * Understands the three error shapes @kubernetes/client-node produces: ApiException from the typed
 * clients (`code` + Status JSON `body`), watch errors (`statusCode` + status text), and network
 * errors from node-fetch (`code` like ECONNREFUSED).
 */
export function describeFailure(error: unknown): ApiFailure {
  if (error instanceof KubernetesSourceError) return { status: undefined, text: error.message };
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  const status =
    typeof fields['code'] === 'number'
      ? fields['code']
      : typeof fields['statusCode'] === 'number'
        ? fields['statusCode']
        : undefined;
  if (status !== undefined) {
    const detail =
      typeof fields['body'] === 'string'
        ? statusMessage(fields['body'])
        : typeof fields['code'] === 'number'
          ? undefined
          : (error as Error).message;
    const head = `HTTP ${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    return {
      status,
      text:
        detail === undefined || detail === '' || detail === STATUS_CODES[status]
          ? head
          : `${head}: ${detail}`,
    };
  }
  if (error instanceof Error) return { status: undefined, text: error.message };
  return { status: undefined, text: String(error) };
}

/** The `message` of a Kubernetes Status body, or the (shortened) body itself. */
function statusMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const message = (parsed as Record<string, unknown>)['message'];
      if (typeof message === 'string') return message;
    }
  } catch {
    // Not JSON (a proxy's error page, `404 page not found`): quote it as text.
  }
  const text = body.trim();
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

export interface FailureContext {
  readonly resource: WatchedResource;
  readonly namespace: string | undefined;
  /** Which request failed. */
  readonly phase: 'list' | 'watch';
  /** Whether the resource had been listed before (its objects are still in use). */
  readonly synced: boolean;
  readonly failure: ApiFailure;
}

/** The issue a failing resource contributes to the state. */
export function failureIssue(context: FailureContext): ConfigIssue {
  const { resource, namespace, phase, synced, failure } = context;
  const name = resourceName(resource);
  const scope = scopeName(namespace);
  if (resource.crdKind !== undefined && failure.status === 404) {
    return {
      severity: 'warning',
      code: 'TRL_K8S_CRD_MISSING',
      message:
        `${name}/${resource.version} is not served ${scope} (${failure.text}): the ${name} CRD ` +
        `is not installed, so no ${resource.crdKind} documents are read; retrying`,
    };
  }
  const request =
    phase === 'list' ? `cannot list ${name} ${scope}` : `watch of ${name} ${scope} failed`;
  if (synced) {
    return {
      severity: 'warning',
      code: 'TRL_K8S_API',
      message: `${request}: ${failure.text}; keeping the ${name} listed before; retrying`,
    };
  }
  const consequence = resource.feedsDocuments
    ? `no documents come from ${name} until it succeeds`
    : `${name} are not indexed until it succeeds`;
  return {
    severity: resource.feedsDocuments ? 'error' : 'warning',
    code: 'TRL_K8S_API',
    message: `${request}: ${failure.text}; ${consequence}; retrying`,
  };
}
