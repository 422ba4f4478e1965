import { describe, expect, it } from 'vitest';
import { connectToNats, natsServers } from './connect.js';

describe('natsServers', () => {
  it('splits a comma-separated list and trims it', () => {
    expect(natsServers(' nats://a:4222, nats://b:4222 ,')).toEqual([
      'nats://a:4222',
      'nats://b:4222',
    ]);
    expect(natsServers(['nats://a:4222'])).toEqual(['nats://a:4222']);
  });

  it('refuses an empty list', () => {
    expect(() => natsServers(' , ')).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
  });
});

describe('connectToNats', () => {
  it('refuses a user without a password', () => {
    expect(() => connectToNats({ servers: 'nats://127.0.0.1:4222', user: 'u' })).toThrow(
      expect.objectContaining({ code: 'TRL_DELIVERY_INVALID_OPTION' }),
    );
  });
});
