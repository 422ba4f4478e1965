import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { describeFailure, failureIssue } from './api-failure.js';
import { KubernetesSourceError } from './errors.js';
import { WATCHED_RESOURCES } from './watched-resources.js';
import type { ResourceKey, WatchedResource } from './watched-resources.js';

function resource(key: ResourceKey): WatchedResource {
  const found = WATCHED_RESOURCES.find((r) => r.key === key);
  if (found === undefined) throw new Error(key);
  return found;
}

const forbiddenBody = JSON.stringify({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'routes.trellis.dev is forbidden: User "u" cannot list resource "routes"',
  reason: 'Forbidden',
  code: 403,
});

describe('describeFailure', () => {
  it('quotes the Status message of an ApiException from a typed list', () => {
    expect(
      describeFailure(new ApiException(403, 'Unknown API Status Code!', forbiddenBody, {})),
    ).toEqual({
      status: 403,
      text: 'HTTP 403 Forbidden: routes.trellis.dev is forbidden: User "u" cannot list resource "routes"',
    });
  });

  it('quotes a body that is not JSON, shortened', () => {
    const page = `<html>${'x'.repeat(400)}</html>`;
    const { text } = describeFailure(new ApiException(502, 'Unknown API Status Code!', page, {}));
    expect(text).toBe(`HTTP 502 Bad Gateway: ${page.slice(0, 300)}…`);
  });

  it('gives only the status when there is no body', () => {
    expect(describeFailure(new ApiException(401, 'Unauthorized', undefined, {}))).toEqual({
      status: 401,
      text: 'HTTP 401 Unauthorized',
    });
  });

  it('reads a watch error (statusCode and status text)', () => {
    const error = Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
    expect(describeFailure(error)).toEqual({ status: 503, text: 'HTTP 503 Service Unavailable' });
  });

  it('passes network errors and its own errors through by message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {
      code: 'ECONNREFUSED',
    });
    expect(describeFailure(refused)).toEqual({
      status: undefined,
      text: 'connect ECONNREFUSED 127.0.0.1:6443',
    });
    const timeout = new KubernetesSourceError('TRL_K8S_LIST_TIMEOUT', 'no answer');
    expect(describeFailure(timeout)).toEqual({ status: undefined, text: 'no answer' });
    expect(describeFailure('odd')).toEqual({ status: undefined, text: 'odd' });
  });
});

describe('failureIssue', () => {
  const failure = { status: 500, text: 'HTTP 500 Internal Server Error' };

  it('is an error while a resource that feeds documents has never been listed', () => {
    expect(
      failureIssue({
        resource: resource('routes'),
        namespace: 'shop',
        phase: 'list',
        synced: false,
        failure,
      }),
    ).toEqual({
      severity: 'error',
      code: 'TRL_K8S_API',
      message:
        'cannot list routes.trellis.dev in namespace shop: HTTP 500 Internal Server Error; no documents come from routes.trellis.dev until it succeeds; retrying',
    });
  });

  it('is a warning once it was listed, since the objects listed before stay in use', () => {
    expect(
      failureIssue({
        resource: resource('services'),
        namespace: undefined,
        phase: 'watch',
        synced: true,
        failure,
      }),
    ).toEqual({
      severity: 'warning',
      code: 'TRL_K8S_API',
      message:
        'watch of services in all namespaces failed: HTTP 500 Internal Server Error; keeping the services listed before; retrying',
    });
  });

  it('is a warning for Pods, which feed no documents', () => {
    expect(
      failureIssue({
        resource: resource('pods'),
        namespace: undefined,
        phase: 'list',
        synced: false,
        failure,
      }),
    ).toMatchObject({ severity: 'warning', code: 'TRL_K8S_API' });
  });

  it('calls a 404 on a Trellis CRD a missing CRD, but not a 404 on a built-in resource', () => {
    const notFound = { status: 404, text: 'HTTP 404 Not Found' };
    expect(
      failureIssue({
        resource: resource('telemetries'),
        namespace: undefined,
        phase: 'list',
        synced: false,
        failure: notFound,
      }),
    ).toEqual({
      severity: 'warning',
      code: 'TRL_K8S_CRD_MISSING',
      message:
        'telemetries.trellis.dev/v1alpha1 is not served in all namespaces (HTTP 404 Not Found): the telemetries.trellis.dev CRD is not installed, so no Telemetry documents are read; retrying',
    });
    expect(
      failureIssue({
        resource: resource('endpointslices'),
        namespace: undefined,
        phase: 'list',
        synced: false,
        failure: notFound,
      }),
    ).toMatchObject({ severity: 'error', code: 'TRL_K8S_API' });
  });
});
