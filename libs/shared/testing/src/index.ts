// @trellis/testing: real-component test helpers — free ports, bounded waits, temp dirs, and real
// nats-server processes (single or clustered, JetStream on, always authenticated).
export { TestingError } from './errors.js';
export type { TestingErrorCode } from './errors.js';
export { waitFor } from './wait-for.js';
export type { NotYet, WaitForOptions } from './wait-for.js';
export { getFreePort, getFreePorts, isPortOpen, waitForPort } from './ports.js';
export type { WaitForPortOptions } from './ports.js';
export { withTempDir } from './temp-dir.js';
export { DEBIAN_NATS_SERVER_PATH, findNatsServerBinary } from './nats-binary.js';
export { LOOPBACK_HOST, renderNatsConfig } from './nats-config.js';
export type {
  NatsClusterOptions,
  NatsConfigSpec,
  NatsConnectionLimits,
  NatsCredentials,
  NatsJetStreamConfig,
  NatsSubjectRule,
  NatsUserOptions,
  NatsUserPermissions,
} from './nats-config.js';
export { fetchNatsMonitor, monitorField } from './nats-monitor.js';
export type { NatsMonitorResponse } from './nats-monitor.js';
export { countLiveNatsServers, stopAllNatsServers } from './nats-registry.js';
export { DEFAULT_NATS_USER, startNatsServer } from './nats-server.js';
export type { NatsServerHandle, StartNatsServerOptions } from './nats-server.js';
export { startNatsCluster } from './nats-cluster.js';
export type { NatsClusterHandle, StartNatsClusterOptions } from './nats-cluster.js';
