// The writer lease in JetStream KV (`trellis-leader` / `writer`): the LeaseRegister the election
// runs on, with compare-and-set on the key's revision (the stream sequence of its last value).
import type { KV } from '@nats-io/kv';
import { KV_LEADER_KEY } from '@trellis/mesh-protocol';
import { isRevisionConflict } from './kv-buckets.js';
import type { LeaseEntry, LeaseRecord, LeaseRegister } from './leader-election.js';

export function kvLeaseRegister(kv: KV, key: string = KV_LEADER_KEY): LeaseRegister {
  return {
    async read(): Promise<LeaseEntry | undefined> {
      const entry = await kv.get(key);
      if (!entry) return undefined;
      if (entry.operation !== 'PUT')
        return { revision: entry.revision, state: 'released', holder: undefined };
      let holder: string | undefined;
      try {
        const value = entry.json<Partial<LeaseRecord>>();
        holder = typeof value.holder === 'string' ? value.holder : undefined;
      } catch {
        holder = undefined; // unreadable: still a lease someone holds, waited out like any other
      }
      return { revision: entry.revision, state: 'held', holder };
    },
    async write(record: LeaseRecord, revision: number): Promise<number | undefined> {
      const value = JSON.stringify(record);
      try {
        return revision === 0 ? await kv.create(key, value) : await kv.update(key, value, revision);
      } catch (error) {
        if (isRevisionConflict(error)) return undefined;
        throw error;
      }
    },
    async release(revision: number): Promise<boolean> {
      try {
        await kv.delete(key, { previousSeq: revision });
        return true;
      } catch (error) {
        if (isRevisionConflict(error)) return false;
        throw error;
      }
    },
  };
}
