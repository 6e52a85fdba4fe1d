import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the native module of @confluentinc/kafka-javascript for the KIP-848 interop suite, unless
 * a build for this package version and Node ABI is already there (one line either way). A failed
 * build does not stop the other suites: that one fails, saying how to build it.
 */
export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build-confluent-js.mjs', import.meta.url));
  try {
    execFileSync(process.execPath, [script], { stdio: 'inherit' });
  } catch {
    // Reported by the script; the suite that needs the module fails with the fix.
  }
}
