// One downstream request and its response, the same shape for HTTP/1.1 and HTTP/2 so the
// layers above never ask which protocol the client spoke. The contract is declared once, by
// the lean HTTP/1.1 server that produces it; the HTTP/2 adapter implements the same.
export { isSentInterimStatus } from '@trellis/sidecar-h1-server';
export type {
  BodyHandlers,
  DownstreamExchange,
  RequestBodyReader,
  ResponseWriter,
} from '@trellis/sidecar-h1-server';
