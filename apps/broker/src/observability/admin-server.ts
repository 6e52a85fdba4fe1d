// The admin HTTP listener: Prometheus metrics, liveness and readiness.
import { createServer, type Server } from 'node:http';
import type { Logger } from '@tributary/core';
import type { Registry } from 'prom-client';

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
}

/**
 * `/metrics` in Prometheus text format; `/healthz` answers 200 while the process serves HTTP at
 * all; `/readyz` answers 200 only between the broker accepting clients and shutdown beginning.
 */
export class AdminServer {
  private server: Server | null = null;
  private ready = false;

  constructor(private readonly options: AdminServerOptions) {}

  setReady(ready: boolean): void {
    this.ready = ready;
  }

  async listen(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        res
          .writeHead(this.ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(this.ready ? 'ready\n' : 'not ready\n');
      } else if (path === '/metrics') {
        this.options.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.options.registry.contentType }).end(text),
          (e: unknown) => {
            this.options.logger.error({ err: e }, 'collecting metrics failed');
            res.writeHead(500).end();
          },
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('admin listener has no address');
    return { host: bound.address, port: bound.port };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
