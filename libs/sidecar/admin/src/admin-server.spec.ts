import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminServer } from './admin-server.js';

describe('admin server', () => {
  let server: Server;
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function start(): Promise<string> {
    server = createAdminServer({
      views: {
        '/live': () => ({ status: 200, body: 'ok\n' }),
        '/config': () => ({ status: 200, body: { version: 3 } }),
        '/broken': () => {
          throw new Error('view failed');
        },
      },
      actions: { '/drain': async () => ({ status: 202, body: { draining: true } }) },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves text and JSON views', async () => {
    const base = await start();
    const live = await fetch(`${base}/live`);
    expect(live.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await live.text()).toBe('ok\n');
    expect(await (await fetch(`${base}/config`)).json()).toEqual({ version: 3 });
  });

  it('runs actions on POST only', async () => {
    const base = await start();
    const drain = await fetch(`${base}/drain`, { method: 'POST' });
    expect(drain.status).toBe(202);
    const wrongMethod = await fetch(`${base}/drain`);
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ error: '/drain needs POST' });
  });

  it('lists the endpoints on an unknown path', async () => {
    const base = await start();
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: 'no admin endpoint /nope',
      endpoints: ['/live', '/config', '/broken', 'POST /drain'],
    });
  });

  it('answers 500 with the reason when a view throws', async () => {
    const base = await start();
    const res = await fetch(`${base}/broken`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'view failed' });
  });
});
