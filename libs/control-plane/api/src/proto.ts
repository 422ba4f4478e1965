// Loads the ControlPlane service from the descriptor generated out of
// proto/trellis/v1/control_plane.proto (scripts/generate.ts; a spec keeps the two in step).
import { loadPackageDefinition } from '@grpc/grpc-js';
import type { ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import type { Options } from '@grpc/proto-loader';
import { CONTROL_PLANE_DESCRIPTOR } from './generated/control-plane-descriptor.js';

/** How messages are decoded on both sides; the shapes in messages.ts depend on it. */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: false,
};

let loaded: ServiceClientConstructor | undefined;

/** The generated client class; its `service` property is the definition a server adds. */
export function controlPlaneService(): ServiceClientConstructor {
  if (!loaded) {
    // protobufjs's descriptor type is a union TypeScript cannot match a literal against; the
    // literal is protobufjs's own output (scripts/descriptor.ts).
    const json = CONTROL_PLANE_DESCRIPTOR as unknown as Parameters<typeof fromJSON>[0];
    const definition = fromJSON(json, PROTO_LOADER_OPTIONS);
    const root = loadPackageDefinition(definition) as unknown as {
      trellis: { v1: { ControlPlane: ServiceClientConstructor } };
    };
    loaded = root.trellis.v1.ControlPlane;
  }
  return loaded;
}
