// `meshctl status`: every proxy's sync state as one control-plane replica sees it, like
// `istioctl proxy-status`, over the control plane's gRPC API.
import { parseArgs } from 'node:util';
import { formatHostPort, parseHostPort } from '@trellis/address';
import {
  ControlPlaneClient,
  ControlPlaneClientError,
  DEFAULT_CONTROL_PLANE_ADDRESS,
  renderProxyTable,
} from '@trellis/meshctl-client';
import type { CliIo, Command } from '../cli.js';
import { UsageError } from '../cli.js';

const usage = `Usage: meshctl status [--control-plane HOST:PORT] [-n NAMESPACE] [-o table|json]

Shows every proxy the control plane knows: its sync state (SYNCED, STALE, NACKED,
DISCONNECTED), the config version and hash it runs, and when it was last heard from.

Options:
  --control-plane HOST:PORT  the control plane's gRPC API (default $TRELLIS_CONTROL_PLANE,
                             else ${DEFAULT_CONTROL_PLANE_ADDRESS})
  -n, --namespace NAMESPACE  only proxies of this namespace
  -o, --output table|json    output format (default table)
  -h, --help                 show this help

Exit status: 0 when every proxy is SYNCED, 1 when any is not, 2 on usage errors or when the
control plane cannot be reached.`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the sync state of every proxy (exit 1 when any is not SYNCED)',
  usage,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...args],
        options: {
          'control-plane': {
            type: 'string',
            default: process.env['TRELLIS_CONTROL_PLANE'] || DEFAULT_CONTROL_PLANE_ADDRESS,
          },
          namespace: { type: 'string', short: 'n', default: '' },
          output: { type: 'string', short: 'o', default: 'table' },
        },
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { output, namespace } = parsed.values;
    if (output !== 'table' && output !== 'json') {
      throw new UsageError(`--output must be table or json (got "${output}")`);
    }
    let address: string;
    try {
      address = formatHostPort(
        parseHostPort(parsed.values['control-plane'], '--control-plane', '127.0.0.1'),
      );
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const client = new ControlPlaneClient(address);
    try {
      const response = await client.listProxies(namespace);
      io.stdout(
        output === 'json'
          ? `${JSON.stringify(response, null, 2)}\n`
          : renderProxyTable(response, Date.now()),
      );
      return response.proxies.every((p) => p.state === 'SYNCED') ? 0 : 1;
    } catch (error) {
      if (!(error instanceof ControlPlaneClientError)) throw error;
      io.stderr(`meshctl status: ${error.message}\n`);
      return 2;
    } finally {
      client.close();
    }
  },
};
