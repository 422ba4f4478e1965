// The JetStream KV buckets of the control plane: opened (created when missing) with the history
// and replica count asked for, and the one JetStream error that means "compare-and-set lost".
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { DeliveryError } from './errors.js';

export interface BucketOptions {
  /** Values kept per key, 1–5. */
  readonly history: number;
  /** 1, 3 or 5 (3 for a 3-node cluster). */
  readonly replicas: number;
}

export function checkBucketOptions(options: BucketOptions): void {
  if (!Number.isInteger(options.history) || options.history < 1 || options.history > 5) {
    throw new DeliveryError(
      'TRL_DELIVERY_INVALID_OPTION',
      `KV history must be 1–5 (got ${options.history})`,
    );
  }
  if (![1, 3, 5].includes(options.replicas)) {
    throw new DeliveryError(
      'TRL_DELIVERY_INVALID_OPTION',
      `KV replicas must be 1, 3 or 5 (got ${options.replicas})`,
    );
  }
}

/**
 * Opens `name`, creating it when missing (an existing bucket keeps its settings). `ops`, when
 * given, is the client the bucket's reads and writes use afterwards (e.g. one with a shorter
 * timeout than creating a replicated stream may need); it reads from the stream leader.
 */
export async function openBucket(
  js: JetStreamClient,
  name: string,
  options: BucketOptions,
  ops?: JetStreamClient,
): Promise<KV> {
  checkBucketOptions(options);
  const kv = await new Kvm(js).create(name, {
    history: options.history,
    replicas: options.replicas,
  });
  return ops ? new Kvm(ops).open(name) : kv;
}

/** A write whose expected revision was no longer the key's: another writer came first. */
export function isRevisionConflict(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
