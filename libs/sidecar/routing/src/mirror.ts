// Request mirroring decisions: which requests get a shadow copy, and the authority the copy
// carries. Pure: the proxy's mirror layer supplies the random source.

/**
 * Whether this request is mirrored, for a route mirroring `percent` (0–100) of its requests.
 * `random` returns values in [0, 1); 0 never mirrors and 100 always does.
 */
export function shouldMirror(percent: number, random: () => number): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return random() * 100 < percent;
}

/**
 * The authority of a shadow copy: the host with `-shadow` appended before any port, as Envoy
 * does (`catalog.shop:8080` → `catalog.shop-shadow:8080`), so the mirror's logs can tell
 * copies from live traffic. A bracketed IPv6 host keeps its brackets: `[::1]:80` →
 * `[::1]-shadow:80`.
 */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  const port = colon > authority.lastIndexOf(']') ? authority.slice(colon + 1) : '';
  if (colon <= 0 || !/^\d{1,5}$/.test(port)) return `${authority}-shadow`;
  return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}
