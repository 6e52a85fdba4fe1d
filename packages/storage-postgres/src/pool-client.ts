import type { Pool, PoolClient } from 'pg';

/**
 * Runs `body` on a client checked out of the pool. The pool listens for errors of idle clients
 * only: a checked-out client whose connection drops (a server restart, a terminated backend)
 * emits 'error', which would end the process without a listener. The listener stays for as long
 * as the client is out, and on a client released broken, which may still report its socket's
 * end. A failed body destroys the client instead of returning it (closing the connection rolls
 * back any open transaction).
 */
export async function usingClient<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error): void => {
    lost = err;
  };
  client.on('error', onError);
  let result: T;
  try {
    result = await body(client);
  } catch (err) {
    client.release(err instanceof Error ? err : true);
    throw err;
  }
  if (lost !== undefined) {
    client.release(lost);
  } else {
    client.removeListener('error', onError);
    client.release();
  }
  return result;
}
