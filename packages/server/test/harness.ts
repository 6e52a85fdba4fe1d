// Starts a server on 127.0.0.1 with an ephemeral port, a fake dispatcher and recording fakes,
// and closes everything it started after each test.
import { afterEach } from 'vitest';
import { createKafkaServer, type KafkaServer, type KafkaServerOptions } from '../src/index.js';
import { FakeDispatcher } from './fake-dispatcher.js';
import { RecordingLogger, RecordingMetrics } from './recorders.js';
import { WireClient } from './wire-client.js';

export interface TestServer {
  server: KafkaServer;
  port: number;
  dispatcher: FakeDispatcher;
  logger: RecordingLogger;
  metrics: RecordingMetrics;
  connect(): Promise<WireClient>;
}

const started: KafkaServer[] = [];
const clients: WireClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(started.splice(0).map((s) => s.close({ drainTimeoutMs: 100 })));
});

export async function startServer(
  options: Omit<Partial<KafkaServerOptions>, 'dispatcher'> & { dispatcher?: FakeDispatcher } = {},
): Promise<TestServer> {
  const dispatcher = options.dispatcher ?? new FakeDispatcher();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const server = createKafkaServer({ logger, metrics, ...options, dispatcher, host: '127.0.0.1', port: 0 });
  started.push(server);
  const { port } = await server.listen();
  return {
    server,
    port,
    dispatcher,
    logger,
    metrics,
    async connect() {
      const client = await WireClient.connect(port);
      clients.push(client);
      return client;
    },
  };
}
