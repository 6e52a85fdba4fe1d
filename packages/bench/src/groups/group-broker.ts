// The Tributary broker for `pnpm bench:groups`, in its own process so its CPU time can be read
// from /proc: in-memory storage, 127.0.0.1, a free port, and group.initial.rebalance.delay.ms=0 so
// a group's first generation forms as soon as its members have joined. Prints one line
// `{"bootstrap":"127.0.0.1:PORT","pid":N}` once it listens; stops when stdin closes or on SIGTERM.
import { createBroker } from '@tributary/server';
import { MemoryStorage } from '@tributary/storage-memory';

const broker = await createBroker({
  storage: new MemoryStorage(),
  host: '127.0.0.1',
  port: 0,
  config: { groupInitialRebalanceDelayMs: 0 },
});
process.stdout.write(`${JSON.stringify({ bootstrap: broker.bootstrap, pid: process.pid })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await broker.close({ drainTimeoutMs: 2000 }).catch(() => {});
  process.exit(0);
}

process.stdin.resume();
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
