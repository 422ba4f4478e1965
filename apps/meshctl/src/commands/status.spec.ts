import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startControlPlaneApi } from '@trellis/control-plane-api';
import type { ControlPlaneApi } from '@trellis/control-plane-api';
import { SyncTracker } from '@trellis/control-plane-delivery';
import type { ProxyIdentity } from '@trellis/mesh-protocol';
import { FakeClock } from '@trellis/time';
import { runCli } from '../cli.js';

const WALL = Date.parse('2026-01-01T00:00:00.000Z');
const identity = (pod: string, namespace = 'shop'): ProxyIdentity => ({
  namespace,
  pod,
  service: 'web',
  role: 'sidecar',
  labels: {},
  startedAt: '2026-01-01T00:00:00.000Z',
});
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let api: ControlPlaneApi | undefined;
let tracker: SyncTracker;
let address: string;
beforeEach(async () => {
  // Only Date is faked, for the LAST SEEN column; gRPC keeps its real timers.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(WALL + 5_000);
  tracker = new SyncTracker({ clock: new FakeClock(0) });
  tracker.setLatest(3, 'sha256:0123456789abcdef');
  api = await startControlPlaneApi({
    address: '127.0.0.1:0',
    tracker,
    latest: () => ({ version: 3, hash: 'sha256:0123456789abcdef', resources: [] }),
    log: silent,
    wallClock: () => WALL,
  });
  address = `127.0.0.1:${api.port}`;
});
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await api?.close();
  api = undefined;
});

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: '/',
  });
  return { code, stdout, stderr };
}

describe('meshctl status', () => {
  it('prints the table and exits 0 when every proxy is SYNCED', async () => {
    tracker.announce(identity('web-1'), 3, 'sha256:0123456789abcdef');
    expect(await cli(['status', '--control-plane', address])).toEqual({
      code: 0,
      stdout: [
        'latest version: 3 (0123456789ab)',
        'NAME   NAMESPACE  SERVICE  ROLE     STATE   VERSION  HASH          LAST SEEN',
        'web-1  shop       web      sidecar  SYNCED  3        0123456789ab  5s ago',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('exits 1 when a proxy is not SYNCED', async () => {
    tracker.announce(identity('web-1'), 3, 'sha256:0123456789abcdef');
    tracker.status({ proxy: identity('web-2'), kind: 'goodbye', version: 2, hash: 'h2', at: '' });
    const result = await cli(['status', '--control-plane', address]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'web-2  shop       web      sidecar  DISCONNECTED  2        h2            5s ago',
    );
  });

  it('prints JSON and filters by namespace', async () => {
    tracker.announce(identity('web-1'), 3, 'sha256:0123456789abcdef');
    tracker.announce(identity('api-1', 'billing'), 3, 'sha256:0123456789abcdef');
    const result = await cli(['status', '--control-plane', address, '-n', 'billing', '-o', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      proxies: [
        {
          namespace: 'billing',
          pod: 'api-1',
          service: 'web',
          role: 'sidecar',
          state: 'SYNCED',
          version: 3,
          hash: 'sha256:0123456789abcdef',
          last_seen: '2026-01-01T00:00:00.000Z',
          nack_version: 0,
          nack_issues: [],
          removed: false,
        },
      ],
      latest_version: 3,
      latest_hash: 'sha256:0123456789abcdef',
    });
  });

  it('takes the address from $TRELLIS_CONTROL_PLANE', async () => {
    vi.stubEnv('TRELLIS_CONTROL_PLANE', address);
    const result = await cli(['status']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'latest version: 3 (0123456789ab)\nno proxies known to the control plane\n',
    );
  });

  it('exits 2 with a clear message when the control plane cannot be reached', async () => {
    const port = api!.port;
    await api!.close();
    api = undefined;
    const result = await cli(['status', '--control-plane', `127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `meshctl status: cannot reach the control plane at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it('exits 2 on a bad address or output format', async () => {
    const bad = await cli(['status', '--control-plane', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'meshctl status: --control-plane must be HOST:PORT, [IPv6]:PORT or :PORT (got "nowhere")',
    );
    const format = await cli(['status', '--control-plane', address, '-o', 'yaml']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--output must be table or json (got "yaml")');
  });

  it('documents its exit codes in --help', async () => {
    const help = await cli(['status', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status: 0 when every proxy is SYNCED, 1 when any is not');
  });
});
