import { describe, expect, it } from 'vitest';
import { parseSidecarFlags, usage } from './flags.js';

describe('sidecar flags', () => {
  it('has production defaults', () => {
    const flags = parseSidecarFlags(['--config', 'mesh.yaml'], {});
    expect(flags).toEqual({
      help: false,
      config: 'mesh.yaml',
      nats: undefined,
      pod: 'localhost',
      service: '',
      role: 'sidecar',
      outbound: { host: '127.0.0.1', port: 15001 },
      inbound: { host: '0.0.0.0', port: 15006 },
      app: undefined,
      listen: { host: '0.0.0.0', port: 8080 },
      admin: { host: '127.0.0.1', port: 15000 },
      namespace: 'default',
      zone: undefined,
      drainTimeoutMs: 20_000,
      replayLimitBytes: 65_536,
      maxRequestBodyBytes: Infinity,
      concurrency: 1,
    });
  });

  it('limits request bodies to 10 MiB on the gateway by default, 0 meaning no limit', () => {
    const gateway = ['--config', 'c', '--role', 'gateway'];
    expect(parseSidecarFlags(gateway, {}).maxRequestBodyBytes).toBe(10_485_760);
    expect(
      parseSidecarFlags([...gateway, '--max-request-body-bytes', '1024'], {}).maxRequestBodyBytes,
    ).toBe(1024);
    expect(
      parseSidecarFlags([...gateway, '--max-request-body-bytes', '0'], {}).maxRequestBodyBytes,
    ).toBe(Infinity);
    expect(
      parseSidecarFlags(['--config', 'c', '--max-request-body-bytes', '2048'], {})
        .maxRequestBodyBytes,
    ).toBe(2048);
    expect(() => parseSidecarFlags([...gateway, '--max-request-body-bytes', '1k'], {})).toThrow(
      '--max-request-body-bytes must be a whole number',
    );
  });

  it('takes --concurrency from the flag, else $TRELLIS_CONCURRENCY', () => {
    expect(parseSidecarFlags(['--config', 'c', '--concurrency', '4'], {}).concurrency).toBe(4);
    expect(parseSidecarFlags(['--config', 'c'], { TRELLIS_CONCURRENCY: '3' }).concurrency).toBe(3);
    expect(
      parseSidecarFlags(['--config', 'c', '--concurrency=2'], { TRELLIS_CONCURRENCY: '3' })
        .concurrency,
    ).toBe(2);
  });

  it('accepts the --concurrency bounds 1 and 64', () => {
    expect(parseSidecarFlags(['--config', 'c', '--concurrency', '1'], {}).concurrency).toBe(1);
    expect(parseSidecarFlags(['--config', 'c', '--concurrency', '64'], {}).concurrency).toBe(64);
  });

  it('reads --concurrency auto and 0 as one worker per CPU, at most 64', () => {
    const withCpus = (value: string, cpus: number) =>
      parseSidecarFlags(['--config', 'c', '--concurrency', value], {}, 'h', cpus).concurrency;
    expect(withCpus('auto', 8)).toBe(8);
    expect(withCpus('0', 2)).toBe(2);
    expect(withCpus('auto', 96)).toBe(64);
    expect(withCpus('auto', 0)).toBe(1);
  });

  it('refuses a --concurrency that is not 1..64, 0 or auto', () => {
    for (const value of ['65', '-1', '1.5', 'two', '', ' 2', '0x2', 'AUTO']) {
      expect(() => parseSidecarFlags(['--config', 'c', `--concurrency=${value}`], {})).toThrow(
        `--concurrency must be a whole number from 1 to 64, or 0 / auto for one per CPU (got "${value}")`,
      );
    }
  });

  it('reads identity from the environment unless flags say otherwise', () => {
    expect(
      parseSidecarFlags(['--config', 'c'], { POD_NAMESPACE: 'shop', TRELLIS_ZONE: 'z1' }),
    ).toMatchObject({ namespace: 'shop', zone: 'z1' });
    expect(
      parseSidecarFlags(['--config', 'c', '--namespace', 'x'], { POD_NAMESPACE: 'shop' }).namespace,
    ).toBe('x');
  });

  it('takes control-plane settings from flags or the environment', () => {
    const flags = parseSidecarFlags(['--service', 'catalog'], {
      TRELLIS_NATS_URL: 'nats://a:4222, nats://b:4222',
      TRELLIS_NATS_USER: 'sidecar',
      TRELLIS_NATS_PASSWORD: 's3cret',
      POD_NAMESPACE: 'shop',
      POD_NAME: 'catalog-1',
      TMPDIR: '/var/tmp',
    });
    expect(flags.nats).toEqual({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'sidecar',
      password: 's3cret',
      stateFile: '/var/tmp/trellis-sidecar-shop-catalog-1.json',
    });
    expect([flags.pod, flags.service, flags.config]).toEqual(['catalog-1', 'catalog', '']);
  });

  it('parses the gateway role and addresses', () => {
    const flags = parseSidecarFlags(
      ['--config', 'c', '--role', 'gateway', '--listen', ':80', '--app', ':9090'],
      {},
    );
    expect(flags.role).toBe('gateway');
    expect(flags.listen).toEqual({ host: '0.0.0.0', port: 80 });
    expect(flags.app).toEqual({ host: '127.0.0.1', port: 9090 });
  });

  it('explains each bad flag', () => {
    expect(() => parseSidecarFlags(['--config', 'c', '--role', 'mesh'], {})).toThrow(
      '--role must be sidecar or gateway (got "mesh")',
    );
    expect(() => parseSidecarFlags([], {})).toThrow(
      'give --config PATH (standalone) or --nats URL (control plane)',
    );
    expect(() => parseSidecarFlags(['--config', 'c', '--nats', 'nats://x'], {})).toThrow(
      'give either --config or --nats, not both',
    );
    expect(() => parseSidecarFlags(['--nats', 'nats://x'], {})).toThrow(
      '--nats needs --nats-user and --nats-password',
    );
    expect(() => parseSidecarFlags(['--config', 'c', '--admin', 'nope'], {})).toThrow(
      '--admin must be HOST:PORT',
    );
    expect(() => parseSidecarFlags(['--config', 'c', '--drain-timeout-ms=-5'], {})).toThrow(
      '--drain-timeout-ms must be a whole number ≥ 0 (got "-5")',
    );
    expect(() => parseSidecarFlags(['--bogus'], {})).toThrow(/bogus/);
  });

  it('documents every flag in the usage text', () => {
    for (const flag of [
      '--config',
      '--role',
      '--outbound',
      '--inbound',
      '--app',
      '--listen',
      '--admin',
      '--namespace',
      '--zone',
      '--drain-timeout-ms',
      '--replay-limit-bytes',
      '--max-request-body-bytes',
      '--concurrency',
      '--help',
    ]) {
      expect(usage).toContain(flag);
    }
  });
});
