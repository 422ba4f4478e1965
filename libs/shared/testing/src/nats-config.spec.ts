import { describe, expect, it } from 'vitest';
import { renderNatsConfig } from './nats-config.js';
import type { NatsConfigSpec } from './nats-config.js';

const base: NatsConfigSpec = {
  port: 4222,
  monitorPort: 8222,
  maxPayload: 8388608,
  users: [{ user: 'admin', password: 'pw' }],
};

describe('renderNatsConfig', () => {
  it('renders listen, monitor, payload limit and an unrestricted user', () => {
    expect(renderNatsConfig(base)).toBe(
      [
        'listen: "127.0.0.1:4222"',
        'http: "127.0.0.1:8222"',
        'max_payload: 8388608',
        'authorization {',
        '  users: [',
        '    {',
        '      user: "admin"',
        '      password: "pw"',
        '    }',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('renders JetStream, per-user permissions and a cluster block, quoting subjects literally', () => {
    const text = renderNatsConfig({
      ...base,
      serverName: 'n1',
      jetstream: { storeDir: '/tmp/x/store', maxMemoryStore: 1024, maxFileStore: 2048 },
      users: [
        {
          user: 'sidecar',
          password: 'p"w\\1',
          permissions: {
            publish: { allow: ['trellis.>', '$JS.API.>'], deny: ['trellis.v1.config.>'] },
            subscribe: { allow: ['_INBOX.>'] },
            allowResponses: true,
          },
        },
      ],
      cluster: { name: 'c', port: 6222, routePorts: [6223, 6224] },
    });
    expect(text).toBe(
      [
        'server_name: "n1"',
        'listen: "127.0.0.1:4222"',
        'http: "127.0.0.1:8222"',
        'max_payload: 8388608',
        'jetstream {',
        '  store_dir: "/tmp/x/store"',
        '  max_memory_store: 1024',
        '  max_file_store: 2048',
        '}',
        'authorization {',
        '  users: [',
        '    {',
        '      user: "sidecar"',
        '      password: "p\\"w\\\\1"',
        '      permissions {',
        '        publish {',
        '          allow: ["trellis.>", "$JS.API.>"]',
        '          deny: ["trellis.v1.config.>"]',
        '        }',
        '        subscribe {',
        '          allow: ["_INBOX.>"]',
        '        }',
        '        allow_responses: true',
        '      }',
        '    }',
        '  ]',
        '}',
        'cluster {',
        '  name: "c"',
        '  listen: "127.0.0.1:6222"',
        '  routes: ["nats-route://127.0.0.1:6223", "nats-route://127.0.0.1:6224"]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('renders the users of a 10,000-sidecar mesh (one user per pod, with permissions)', () => {
    const users = Array.from({ length: 10_000 }, (_, i) => ({
      user: `trellis-sidecar.shop.web-${i}`,
      password: `pw-${i}`,
      permissions: {
        publish: { allow: [`trellis.v1.status.shop.web-${i}`], deny: ['$KV.>'] },
        subscribe: { allow: [`_INBOX.shop.web-${i}.>`] },
      },
    }));
    const text = renderNatsConfig({ ...base, users });
    expect(text.match(/^ {6}user: /gm)).toHaveLength(10_000);
    expect(text).toContain(
      '      user: "trellis-sidecar.shop.web-9999"\n      password: "pw-9999"',
    );
  });

  it('renders connection limits: max_connections, write_deadline and the auth timeout', () => {
    const text = renderNatsConfig({
      ...base,
      limits: { maxConnections: 20000, authTimeoutSeconds: 10, writeDeadlineSeconds: 30 },
    });
    expect(text).toBe(
      [
        'listen: "127.0.0.1:4222"',
        'http: "127.0.0.1:8222"',
        'max_payload: 8388608',
        'max_connections: 20000',
        'write_deadline: "30s"',
        'authorization {',
        '  timeout: 10',
        '  users: [',
        '    {',
        '      user: "admin"',
        '      password: "pw"',
        '    }',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('refuses connection limits that are not whole numbers > 0', () => {
    expect(() => renderNatsConfig({ ...base, limits: { maxConnections: 0 } })).toThrow(
      expect.objectContaining({
        code: 'TRL_TESTING_INVALID_OPTION',
        message: 'maxConnections must be a whole number > 0 (got 0)',
      }),
    );
    expect(() => renderNatsConfig({ ...base, limits: { authTimeoutSeconds: 0.5 } })).toThrow(
      'authTimeoutSeconds must be a whole number > 0 (got 0.5)',
    );
    expect(() => renderNatsConfig({ ...base, limits: { writeDeadlineSeconds: -1 } })).toThrow(
      'writeDeadlineSeconds must be a whole number > 0 (got -1)',
    );
  });

  it('refuses a server without users (NATS always runs authenticated)', () => {
    expect(() => renderNatsConfig({ ...base, users: [] })).toThrow(
      expect.objectContaining({
        code: 'TRL_TESTING_INVALID_OPTION',
        message: 'a nats-server needs at least one user',
      }),
    );
  });

  it('refuses duplicate and empty user names', () => {
    const dup = { ...base, users: [base.users[0]!, { user: 'admin', password: 'x' }] };
    expect(() => renderNatsConfig(dup)).toThrow('duplicate NATS user "admin"');
    expect(() => renderNatsConfig({ ...base, users: [{ user: '', password: 'x' }] })).toThrow(
      'a NATS user name must not be empty',
    );
  });

  it('refuses an empty allow list, which nats-server would read as "allow everything"', () => {
    const spec = {
      ...base,
      users: [{ user: 'u', password: 'p', permissions: { publish: { allow: [] } } }],
    };
    expect(() => renderNatsConfig(spec)).toThrow(
      expect.objectContaining({
        code: 'TRL_TESTING_INVALID_OPTION',
        message:
          'user "u": an empty publish.allow list would allow everything; use deny: [">"] to allow nothing',
      }),
    );
  });

  it('refuses strings with control characters, which the config syntax cannot hold', () => {
    expect(() => renderNatsConfig({ ...base, users: [{ user: 'u', password: 'a\nb' }] })).toThrow(
      expect.objectContaining({ code: 'TRL_TESTING_INVALID_OPTION' }),
    );
  });

  it('refuses ports outside 1..65535 and negative or fractional sizes', () => {
    expect(() => renderNatsConfig({ ...base, port: 0 })).toThrow('invalid TCP port 0');
    expect(() => renderNatsConfig({ ...base, monitorPort: 70000 })).toThrow(
      'invalid TCP port 70000',
    );
    expect(() => renderNatsConfig({ ...base, maxPayload: 1.5 })).toThrow(
      '"max_payload" must be a non-negative integer (got 1.5)',
    );
  });
});
