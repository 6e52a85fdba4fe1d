// The interop suites run their clients against a broker in its own process: the `tributary`
// command (apps/broker, from source), in memory, on a free loopback port.
import { TributaryProcess } from '@tributary/broker/process-harness';
import { ApiKey, createApiVersionsRequest } from '@tributary/codec';
import { WireClient } from '../wire.js';

const START_TIMEOUT_MS = 30_000;

export interface BrokerProcess {
  readonly host: string;
  readonly port: number;
  readonly bootstrap: string;
  readonly pid: number;
  /** Whether the broker advertises an API (asked over the wire, as a client would). */
  advertises(apiKey: number): Promise<boolean>;
  /** SIGTERM, then waits for the exit; resolves to the exit status. */
  close(): Promise<number | null>;
}

/** Starts `tributary --memory` with extra flags and resolves once it serves clients. */
export async function startBrokerProcess(flags: readonly string[] = []): Promise<BrokerProcess> {
  const child = TributaryProcess.start([
    '--memory',
    '--port',
    '0',
    '--admin-port',
    '-1',
    // As in startTestBroker: groups form at once instead of waiting for more members.
    '--group-initial-rebalance-delay-ms',
    '0',
    ...flags,
  ]);
  let address: string;
  try {
    address = (await child.started(START_TIMEOUT_MS)).kafka;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const [host, port] = address.split(':') as [string, string];
  return {
    host,
    port: Number(port),
    bootstrap: address,
    pid: child.child.pid!,
    async advertises(apiKey) {
      const client = await WireClient.connect(Number(port), host);
      try {
        const versions = await client.send<{ apiKeys: { apiKey: number }[] }>(
          ApiKey.ApiVersions,
          3,
          createApiVersionsRequest({ clientSoftwareName: 'interop', clientSoftwareVersion: '1' }),
        );
        return versions.apiKeys.some((k) => k.apiKey === apiKey);
      } finally {
        client.close();
      }
    },
    async close() {
      child.kill('SIGTERM');
      return (await child.exited).code;
    },
  };
}
