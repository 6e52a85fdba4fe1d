// The Node loopback limit: what plain Node sockets move on 127.0.0.1 on this machine, with the
// server and the client in separate processes as the broker and its load generator are.
//
//   loopback.ts server            listens; prints {"port":N}; sinks data (answering the byte
//                                 count at the end) or echoes it, per connection's first byte
//   loopback.ts sink PORT MS      writes 64 KiB chunks for MS ms; prints bytes/s
//   loopback.ts echo PORT COUNT   COUNT sequential 100-byte round trips; prints latencies
import { connect, createServer, type Socket } from 'node:net';
import { summarizeMicros } from './stats.js';

const SINK = 0x53;
const ECHO = 0x45;

function serve(): void {
  const server = createServer((socket) => {
    let mode = 0;
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      if (mode === 0) {
        mode = chunk[0]!;
        chunk = chunk.subarray(1);
      }
      if (mode === ECHO) socket.write(chunk);
      else bytes += chunk.length;
    });
    socket.on('end', () => {
      if (mode === SINK) socket.end(`${bytes}\n`);
      else socket.end();
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

function opened(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function sink(port: number, durationMs: number): Promise<void> {
  const socket = await opened(port);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const started = performance.now();
  const deadline = started + durationMs;
  socket.write(Buffer.from([SINK]));
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (performance.now() < deadline) {
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
  });
  socket.end();
  let reply = '';
  for await (const b of socket) reply += (b as Buffer).toString('utf8');
  const elapsedMs = performance.now() - started;
  const bytes = Number(reply.trim());
  process.stdout.write(`${JSON.stringify({ bytes, elapsedMs, mbPerSec: bytes / 1000 / elapsedMs })}\n`);
}

async function echo(port: number, count: number): Promise<void> {
  const socket = await opened(port);
  socket.write(Buffer.from([ECHO]));
  const message = Buffer.alloc(100, 0x61);
  const micros: number[] = [];
  let pending = 0;
  let sentAt = 0n;
  let done: () => void = () => {};
  socket.on('data', (b: Buffer) => {
    pending -= b.length;
    if (pending <= 0) done();
  });
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => {
      done = resolve;
      pending = message.length;
      sentAt = process.hrtime.bigint();
      socket.write(message);
    });
    micros.push(Number(process.hrtime.bigint() - sentAt) / 1000);
  }
  socket.end();
  process.stdout.write(`${JSON.stringify(summarizeMicros(micros))}\n`);
}

const [role, port, n] = process.argv.slice(2);
if (role === 'server') serve();
else if (role === 'sink') await sink(Number(port), Number(n));
else if (role === 'echo') await echo(Number(port), Number(n));
else throw new Error(`unknown role ${role}`);
