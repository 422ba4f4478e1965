// Protocol errors: a message that cannot be accepted, with a stable code and what was wrong.

export type ProtocolErrorCode =
  | 'TRL_PROTO_TOO_LARGE'
  | 'TRL_PROTO_MALFORMED'
  | 'TRL_PROTO_INVALID'
  | 'TRL_PROTO_IDENTITY_MISMATCH';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
