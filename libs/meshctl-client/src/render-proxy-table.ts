// `meshctl status` as text: a header with the newest stored version, one row per proxy in the
// style of `istioctl proxy-status`, and the reasons of every NACK below the table.
import type { ListProxiesResponse, ProxyStatusMessage } from '@trellis/control-plane-api';

const HEADERS = ['NAME', 'NAMESPACE', 'SERVICE', 'ROLE', 'STATE', 'VERSION', 'HASH', 'LAST SEEN'];

/** `sha256:0123456789abcdef…` → `0123456789ab`; '' → '-'. */
export function shortHash(hash: string): string {
  const bare = hash.startsWith('sha256:') ? hash.slice('sha256:'.length) : hash;
  return bare === '' ? '-' : bare.slice(0, 12);
}

/** How long ago `time` (RFC 3339) was at `wallNow` (epoch ms), e.g. `42s ago`, `3m ago`. */
export function ago(time: string, wallNow: number): string {
  const at = Date.parse(time);
  if (Number.isNaN(at)) return '-';
  const seconds = Math.max(0, Math.floor((wallNow - at) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

function row(proxy: ProxyStatusMessage, wallNow: number): string[] {
  return [
    proxy.pod,
    proxy.namespace,
    proxy.service || '-',
    proxy.role,
    proxy.state,
    String(proxy.version),
    shortHash(proxy.hash),
    ago(proxy.last_seen, wallNow),
  ];
}

function table(rows: readonly string[][]): string[] {
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderProxyTable(response: ListProxiesResponse, wallNow: number): string {
  const lines = [
    response.latest_version === 0
      ? 'latest version: none stored yet'
      : `latest version: ${response.latest_version} (${shortHash(response.latest_hash)})`,
  ];
  if (response.proxies.length === 0) {
    lines.push('no proxies known to the control plane');
  } else {
    lines.push(...table([HEADERS, ...response.proxies.map((p) => row(p, wallNow))]));
  }
  for (const proxy of response.proxies) {
    if (proxy.state !== 'NACKED') continue;
    lines.push('', `${proxy.namespace}/${proxy.pod} refused version ${proxy.nack_version}:`);
    lines.push(...proxy.nack_issues.map((issue) => `  ${issue.text}`));
  }
  return `${lines.join('\n')}\n`;
}
