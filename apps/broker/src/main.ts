// Entry point of the `tributary` executable.
import { run } from './cli.js';

run(process.argv.slice(2), process.env).then(
  (status) => process.exit(status),
  (e: unknown) => {
    process.stderr.write(`tributary: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
