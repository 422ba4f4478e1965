// What routing needs to know about a request, independent of HTTP/1.1 or HTTP/2.

export interface RequestView {
  /** `Host` (HTTP/1.1) or `:authority` (HTTP/2), as received. */
  readonly authority: string;
  /** Request target: the path with its query, e.g. `/items?id=3`. */
  readonly target: string;
  readonly method: string;
  /** The HTTP version the client spoke on this hop. */
  readonly protocol: 'http1' | 'h2c';
  /** Value of a header by lower-case name; repeated headers joined with `, `. */
  header(name: string): string | undefined;
}
