// A Kafka proxy that gives each team its own topic namespace: clients say "orders", the cluster
// sees "team-a.orders". It decodes only the requests it changes (Metadata here) and passes every
// other frame through byte for byte.
//
//   npx tsx --conditions=@tributary/source examples/topic-prefix-proxy.ts \
//     --listen 127.0.0.1:19092 --upstream 127.0.0.1:9092 --prefix team-a.
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  ApiKey,
  decodeRequestBody,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameSplitter,
  type MetadataRequest,
  MetadataRequestDescriptor,
  type MetadataResponse,
  MetadataResponseDescriptor,
  parseRequestHeader,
} from '@tributary/codec';

export interface ProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  prefix: string;
}

function sizePrefixed(frame: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + frame.length);
  out.writeInt32BE(frame.length, 0);
  frame.copy(out, 4);
  return out;
}

function handleConnection(client: Socket, options: ProxyOptions): void {
  const upstream = connect(options.upstreamPort, options.upstreamHost);
  const fromClient = new FrameSplitter();
  const fromUpstream = new FrameSplitter();
  // Metadata requests in flight, by correlation id, so their responses can be rewritten.
  const metadataVersions = new Map<number, number>();
  const strip = (name: string | null): string | null =>
    name?.startsWith(options.prefix) ? name.slice(options.prefix.length) : name;

  client.on('data', (chunk) => {
    try {
      for (const frame of fromClient.push(chunk)) {
        const header = parseRequestHeader(frame);
        if (header.apiKey !== ApiKey.Metadata) {
          upstream.write(sizePrefixed(frame));
          continue;
        }
        const request = decodeRequestBody<MetadataRequest>(frame, header);
        for (const topic of request.topics ?? [])
          if (topic.name !== null) topic.name = options.prefix + topic.name;
        metadataVersions.set(header.correlationId, header.apiVersion);
        upstream.write(
          encodeRequestFrame(
            MetadataRequestDescriptor,
            header.apiVersion,
            header.correlationId,
            header.clientId,
            request,
          ),
        );
      }
    } catch (error) {
      // A malformed frame ends this connection only.
      client.destroy(error as Error);
      upstream.destroy();
    }
  });

  upstream.on('data', (chunk) => {
    try {
      for (const frame of fromUpstream.push(chunk)) {
        const correlationId = frame.readInt32BE(0);
        const version = metadataVersions.get(correlationId);
        if (version === undefined) {
          client.write(sizePrefixed(frame));
          continue;
        }
        metadataVersions.delete(correlationId);
        const { body } = decodeResponseFrame<MetadataResponse>(frame, ApiKey.Metadata, version);
        // Hide other teams' topics and strip our prefix from ours.
        body.topics = body.topics.filter((t) => t.name === null || t.name.startsWith(options.prefix));
        for (const topic of body.topics) topic.name = strip(topic.name);
        client.write(encodeResponseFrame(MetadataResponseDescriptor, version, correlationId, body));
      }
    } catch (error) {
      client.destroy(error as Error);
      upstream.destroy();
    }
  });

  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}

export function startProxy(options: ProxyOptions, port = 0, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((socket) => handleConnection(socket, options));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function parseHostPort(text: string): [string, number] {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`expected host:port, got "${text}"`);
  return [text.slice(0, i), port];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!, process.argv[i + 1] ?? '');
  const [listenHost, listenPort] = parseHostPort(args.get('--listen') ?? '127.0.0.1:19092');
  const [upstreamHost, upstreamPort] = parseHostPort(args.get('--upstream') ?? '127.0.0.1:9092');
  const prefix = args.get('--prefix') ?? 'team-a.';
  await startProxy({ upstreamHost, upstreamPort, prefix }, listenPort, listenHost);
  console.log(
    `proxy on ${listenHost}:${listenPort} -> ${upstreamHost}:${upstreamPort}, topic prefix "${prefix}"`,
  );
}
