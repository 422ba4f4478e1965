import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

const SERVER_MODULE = resolve(__dirname, 'nats-server.ts');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a program that starts a nats-server through this lib and prints `pid <n>`; SIGINTs it
 * once the server runs. `handler`: the program's own SIGINT handler body (none: default).
 */
async function interruptProgram(handler: string | undefined): Promise<{
  natsPid: number;
  output: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
}> {
  return withTempDir(async (dir) => {
    const program = join(dir, 'program.mts'); // ESM, for top-level await
    await writeFile(
      program,
      [
        `import { startNatsServer } from ${JSON.stringify(SERVER_MODULE)};`,
        `const server = await startNatsServer({ jetstream: false });`,
        handler === undefined ? '' : `process.on('SIGINT', async () => { ${handler} });`,
        `console.log('pid ' + server.pid);`,
        `setInterval(() => undefined, 1000);`,
      ].join('\n'),
    );
    // One process (tsx as a loader, not its CLI, which would relay the signal to a child).
    const child = spawn(process.execPath, ['--import', 'tsx', program], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    const natsPid = await waitFor(() => /pid (\d+)/.exec(output)?.[1], {
      timeoutMs: 20_000,
      what: 'the program to start its nats-server',
    });
    child.kill('SIGINT');
    const exited = await exit;
    return { natsPid: Number(natsPid), output, exit: exited };
  });
}

describe('nats-server lifetime on signals', () => {
  it('reaps the server when the program does not handle SIGINT, and the program still dies of it', async () => {
    const { natsPid, exit } = await interruptProgram(undefined);
    expect(exit).toEqual({ code: null, signal: 'SIGINT' });
    // SIGKILL was sent before the program died; the kernel ends the server just after.
    await waitFor(() => !isAlive(natsPid), { timeoutMs: 5000, what: 'the server to be reaped' });
  });

  it('leaves the server running for a program that handles SIGINT, until it stops it itself', async () => {
    const { natsPid, output, exit } = await interruptProgram(
      // Reports whether its server survived the signal, then stops it as the demo does.
      `await new Promise((r) => setTimeout(r, 200));
       console.log('server alive after SIGINT: ' + server.running + ' ' + (() => { try { process.kill(server.pid!, 0); return true; } catch { return false; } })());
       await server.stop();
       process.exit(0);`,
    );
    expect(output).toContain('server alive after SIGINT: true true');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(isAlive(natsPid)).toBe(false);
  });
});
