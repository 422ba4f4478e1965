// Turns proto/trellis/v1/control_plane.proto (the one source of the API) into the JSON
// descriptor the lib loads with @grpc/proto-loader's fromJSON, as a TS module. Embedding it
// instead of reading the .proto at run time keeps the API working from source, from the app
// bundles and from the lib's transpiled output alike.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import protobuf from 'protobufjs';

export const PROTO_FILE = fileURLToPath(
  new URL('../proto/trellis/v1/control_plane.proto', import.meta.url),
);
export const DESCRIPTOR_FILE = fileURLToPath(
  new URL('../src/generated/control-plane-descriptor.ts', import.meta.url),
);

/** The descriptor file's content, formatted as the repository's prettier config wants it. */
export async function renderDescriptor(): Promise<string> {
  const { root } = protobuf.parse(readFileSync(PROTO_FILE, 'utf8'), { keepCase: true });
  const json = JSON.stringify(root.toJSON({ keepComments: false }));
  const text = `// Generated from proto/trellis/v1/control_plane.proto by scripts/generate.ts: do not edit.
export const CONTROL_PLANE_DESCRIPTOR = ${json};
`;
  const options = await resolveConfig(DESCRIPTOR_FILE);
  return format(text, { ...options, parser: 'typescript' });
}
