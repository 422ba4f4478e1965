// A simulated sidecar for the delivery's integration tests, written against protocol v1 with
// raw nats.js and @trellis/mesh-protocol only (independent of the real sidecar's delivery lib):
// it announces itself, applies increments on top of exactly its version, resyncs on a gap or a
// hash mismatch, and ACKs or NACKs what it received on its own status subject. Like a real
// sidecar it asks on its own sync subject and takes replies under its own inbox prefix.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { buildSnapshot } from '@trellis/config';
import type { ConfigIssue, Snapshot } from '@trellis/config';
import {
  applyConfigUpdate,
  decodeConfigUpdate,
  decodeSyncReply,
  encodeMessage,
  inboxPrefix,
  subjects,
} from '@trellis/mesh-protocol';
import type { ConfigUpdate, ProxyIdentity, ProxyStatus, SyncReply } from '@trellis/mesh-protocol';

export interface FakeSidecarOptions {
  readonly servers: string | string[];
  readonly user: string;
  readonly password: string;
  readonly pod: string;
  readonly namespace?: string;
  /** Issues to NACK a version with; undefined accepts it. */
  readonly refuse?: (snapshot: Snapshot) => ConfigIssue[] | undefined;
}

export class FakeSidecar {
  readonly identity: ProxyIdentity;
  readonly nc: NatsConnection;
  /** Every update received, in order. */
  readonly updates: ConfigUpdate[] = [];
  /** What happened to each update or sync: `applied 3`, `gap 1<-2`, `full 4`, `nack 5`, … */
  readonly events: string[] = [];
  /** Updates with these versions are dropped on arrival, as if missed. */
  readonly drop = new Set<number>();
  current: Snapshot | undefined;
  readonly #refuse: FakeSidecarOptions['refuse'];
  readonly #sub: Subscription;
  #syncing: Promise<SyncReply> | undefined;

  private constructor(nc: NatsConnection, identity: ProxyIdentity, options: FakeSidecarOptions) {
    this.nc = nc;
    this.identity = identity;
    this.#refuse = options.refuse;
    this.#sub = nc.subscribe(subjects.configUpdates, {
      callback: (_err, msg) => this.#onUpdate(msg.data),
    });
    void this.#resyncOnReconnect();
  }

  static async connect(options: FakeSidecarOptions): Promise<FakeSidecar> {
    const namespace = options.namespace ?? 'shop';
    const nc = await connect({
      servers: options.servers,
      user: options.user,
      pass: options.password,
      inboxPrefix: inboxPrefix(namespace, options.pod),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 200,
    });
    const identity: ProxyIdentity = {
      namespace,
      pod: options.pod,
      service: 'web',
      role: 'sidecar',
      labels: { app: 'web' },
      startedAt: new Date().toISOString(),
    };
    const sidecar = new FakeSidecar(nc, identity, options);
    await nc.flush();
    return sidecar;
  }

  get version(): number {
    return this.current?.version ?? 0;
  }

  /** Sends a SyncRequest and applies a `full` reply (ACK or NACK); resolves with the reply. */
  sync(timeoutMs = 5_000): Promise<SyncReply> {
    this.#syncing ??= this.#sync(timeoutMs).finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  publishStatus(kind: ProxyStatus['kind'], extra: Partial<ProxyStatus> = {}): void {
    const status: ProxyStatus = {
      proxy: this.identity,
      kind,
      version: this.version,
      hash: this.current?.hash ?? '',
      at: new Date().toISOString(),
      ...extra,
    };
    this.nc.publish(
      subjects.status(this.identity.namespace, this.identity.pod),
      encodeMessage(status),
    );
  }

  async close(): Promise<void> {
    this.#sub.unsubscribe();
    if (!this.nc.isClosed()) await this.nc.close();
  }

  async #sync(timeoutMs: number): Promise<SyncReply> {
    const request = { proxy: this.identity, version: this.version, hash: this.current?.hash ?? '' };
    const { namespace, pod } = this.identity;
    const msg = await this.nc.request(subjects.sync(namespace, pod), encodeMessage(request), {
      timeout: timeoutMs,
    });
    const reply = decodeSyncReply(msg.data);
    if (reply.kind === 'full') {
      const snapshot = buildSnapshot(reply.snapshot.resources, reply.snapshot.version);
      if (snapshot.hash !== reply.snapshot.hash)
        throw new Error(`full snapshot ${snapshot.version} has the wrong hash`);
      this.events.push(`full ${snapshot.version}`);
      this.#accept(snapshot);
    } else {
      this.events.push(reply.kind);
    }
    return reply;
  }

  /** Updates published while it was away are lost: it asks for the state of the world. */
  async #resyncOnReconnect(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'reconnect') {
        this.events.push('reconnected');
        void this.#syncUntilAnswered();
      }
    }
  }

  async #syncUntilAnswered(): Promise<void> {
    for (let attempt = 0; attempt < 20 && !this.nc.isClosed(); attempt++) {
      try {
        await this.sync(2_000);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  #onUpdate(data: Uint8Array): void {
    const update = decodeConfigUpdate(data);
    this.updates.push(update);
    if (this.drop.has(update.version)) {
      this.events.push(`dropped ${update.version}`);
      return;
    }
    const outcome = applyConfigUpdate(this.current, update);
    switch (outcome.kind) {
      case 'applied':
        this.events.push(`applied ${update.version}`);
        this.#accept(outcome.snapshot);
        return;
      case 'stale':
        this.events.push(`stale ${update.version}`);
        return;
      case 'gap':
        this.events.push(`gap ${outcome.have}<-${outcome.base}`);
        void this.sync().catch(() => undefined);
        return;
      case 'hash-mismatch':
        this.events.push(`hash-mismatch ${update.version}`);
        void this.sync().catch(() => undefined);
        return;
      case 'invalid':
        this.events.push(`invalid ${update.version}`);
        this.publishStatus('nack', { rejectedVersion: update.version, issues: [] });
        return;
    }
  }

  #accept(snapshot: Snapshot): void {
    const issues = this.#refuse?.(snapshot);
    if (issues) {
      this.events.push(`nack ${snapshot.version}`);
      this.publishStatus('nack', { rejectedVersion: snapshot.version, issues });
      return;
    }
    this.current = snapshot;
    this.publishStatus('ack');
  }
}
