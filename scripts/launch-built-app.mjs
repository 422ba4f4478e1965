// Shared by the `bin` shims of the Node apps (the sidecar's is a shell launcher that sets its
// memory settings first): runs the app's bundle from dist/, or says how to build it.
import { existsSync } from 'node:fs';

export async function launchBuiltApp(app) {
  const main = new URL(`../dist/apps/${app}/main.js`, import.meta.url);
  if (!existsSync(main)) {
    console.error(`${app} is not built yet: run \`npm run build\` at the repository root first.`);
    process.exit(1);
  }
  await import(main.href);
}
