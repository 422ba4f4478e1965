import { describe, expect, it } from 'vitest';
import { GrpcStatus, grpcStatusForHttp, isGrpcStatusCode } from './grpc-status.js';

describe('grpcStatusForHttp', () => {
  it.each([
    [400, GrpcStatus.INTERNAL],
    [401, GrpcStatus.UNAUTHENTICATED],
    [403, GrpcStatus.PERMISSION_DENIED],
    [404, GrpcStatus.UNIMPLEMENTED],
    [429, GrpcStatus.UNAVAILABLE],
    [502, GrpcStatus.UNAVAILABLE],
    [503, GrpcStatus.UNAVAILABLE],
    [504, GrpcStatus.UNAVAILABLE],
    [500, GrpcStatus.UNKNOWN],
    [200, GrpcStatus.UNKNOWN],
  ])('maps HTTP %i to gRPC %i', (http, grpc) => {
    expect(grpcStatusForHttp(http)).toBe(grpc);
  });
});

describe('isGrpcStatusCode', () => {
  it('accepts 0 to 16 and nothing else', () => {
    expect([0, 16].map(isGrpcStatusCode)).toEqual([true, true]);
    expect([-1, 17, 1.5, NaN].map(isGrpcStatusCode)).toEqual([false, false, false, false]);
  });
});
