// The interop suites run their clients against a broker in its own process: the `tributary`
// command (apps/broker, from source), in memory, on a free loopback port.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ApiKey, createApiVersionsRequest } from '@tributary/codec';
import { WireClient } from '../wire.js';

const BROKER_APP = fileURLToPath(new URL('../../../../apps/broker', import.meta.url));
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
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@tributary/source',
      '--import',
      'tsx',
      'src/main.ts',
      '--memory',
      '--port',
      '0',
      '--admin-port',
      '-1',
      // As in startTestBroker: groups form at once instead of waiting for more members.
      '--group-initial-rebalance-delay-ms',
      '0',
      ...flags,
    ],
    { cwd: BROKER_APP, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const address = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tributary did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes('"tributary started"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { kafka: string }).kafka);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tributary exited with ${code} before serving: ${stderr}`));
    });
  });
  const [host, port] = address.split(':') as [string, string];
  return {
    host,
    port: Number(port),
    bootstrap: address,
    pid: child.pid!,
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
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
