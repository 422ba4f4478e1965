import { defineConfig } from 'vitest/config';

// Real nats-server processes (a 3-node cluster, leader elections) need more than unit-test time.
export default defineConfig({
  test: { include: ['src/**/*.spec.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
});
