import { createRequire } from 'node:module';

const requireOptional = createRequire(import.meta.url);

/**
 * `TRIBUTARY_NATIVE=0` turns every optional native addon off, so a whole test run (or a
 * production process that distrusts an addon) exercises the pure-JS paths. Read once, at first use.
 */
let nativeAllowed: boolean | undefined;

function nativeEnabled(): boolean {
  if (nativeAllowed === undefined) nativeAllowed = process.env.TRIBUTARY_NATIVE !== '0';
  return nativeAllowed;
}

/**
 * Loads an optional dependency whose native code ships as per-platform npm packages. Returns
 * undefined when it is not installed, has no build for this platform, or fails to load: every
 * caller has a pure-JS path, so a missing addon only costs speed.
 */
export function loadOptionalNative<T>(name: string, probe: (mod: T) => void): T | undefined {
  if (!nativeEnabled()) return undefined;
  try {
    const mod = requireOptional(name) as T;
    // A half-installed addon can load and still fail on first call: find out now, not mid-request.
    probe(mod);
    return mod;
  } catch {
    return undefined;
  }
}
