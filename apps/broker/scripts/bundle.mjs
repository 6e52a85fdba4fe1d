// Bundles the command into one file, dist/tributary.mjs. Loading the workspace packages as
// hundreds of separate modules (the codec alone is one module per Kafka message) costs more
// start-up time than running the broker's own start; one file loads in a fraction of it.
// Native addons stay external: they are optional and resolved at run time.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/tributary.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@tributary/source'],
  external: ['@node-rs/crc32', '@toondepauw/node-zstd', 'lz4-napi', 'snappy', 'pino-pretty'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
