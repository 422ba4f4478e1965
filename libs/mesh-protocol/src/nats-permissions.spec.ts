import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_NATS_PERMISSIONS, sidecarNatsPermissions } from './nats-permissions.js';

describe('sidecarNatsPermissions', () => {
  it('lets a sidecar publish on its own pod subjects and read its own inbox only', () => {
    expect(sidecarNatsPermissions('shop', 'web-1')).toEqual({
      publish: {
        allow: [
          'trellis.v1.sync.shop.web-1',
          'trellis.v1.status.shop.web-1',
          'trellis.v1.telemetry.shop.web-1',
        ],
        deny: ['trellis.v1.config.>', '$JS.>', '$KV.>'],
      },
      subscribe: { allow: ['trellis.v1.config.updates', '_INBOX.shop.web-1.>'] },
    });
  });
});

describe('CONTROL_PLANE_NATS_PERMISSIONS', () => {
  it('publishes config and answers sidecars, and cannot be widened at run time', () => {
    expect(CONTROL_PLANE_NATS_PERMISSIONS.publish.allow).toContain('trellis.v1.config.updates');
    expect(CONTROL_PLANE_NATS_PERMISSIONS.subscribe.allow).toEqual([
      'trellis.v1.sync.>',
      'trellis.v1.status.>',
      'trellis.v1.telemetry.>',
      '_INBOX.>',
    ]);
    expect(Object.isFrozen(CONTROL_PLANE_NATS_PERMISSIONS.publish.allow)).toBe(true);
  });
});
