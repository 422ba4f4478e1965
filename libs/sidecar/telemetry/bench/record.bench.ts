// Cost per finished request of metrics and access logging (run: npx vitest bench). The
// `mean` column is in ms; multiply by 1000 for µs per request. Lines go to a sink that hands
// each batch straight back, so this measures building and serialising, not the stdout write.
import { bench, describe } from 'vitest';
import { AccessLog } from '../src/access-log.js';
import type { AccessLogDestination } from '../src/access-log.js';
import { SidecarMetrics } from '../src/sidecar-metrics.js';
import { completedRequest } from '../src/testing.js';

const plain = completedRequest({
  headers: ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
});
const retried = completedRequest({
  status: 503,
  record: { attempts: 3, retryReasons: ['5xx', 'reset'], error: 'upstream-reset' },
});
const sink: AccessLogDestination = { write: (chunk, done) => done?.(chunk, false) };

describe('per request', () => {
  const metrics = new SidecarMetrics();
  const json = new AccessLog({ destination: sink });
  const text = new AccessLog({ destination: sink });
  text.configure({
    enabled: true,
    samplingPercent: 100,
    format: '%START_TIME% "%METHOD% %PATH% %PROTOCOL%" %STATUS% %DURATION_MS% %UPSTREAM%',
  });

  bench('metrics.record (plain 200)', () => metrics.record(plain, 'outbound'));
  bench('metrics.record (retried 503)', () => metrics.record(retried, 'outbound'));
  bench('accessLog.log JSON', () => json.log(plain, 'outbound'));
  bench('accessLog.log text format', () => text.log(plain, 'outbound'));
  bench('record + JSON log', () => {
    metrics.record(plain, 'outbound');
    json.log(plain, 'outbound');
  });
});
