import type { RequestContext } from '../request-context.js';

/** The client host as Kafka reports it in DescribeGroups: the address without its port, after a slash. */
export function clientHost(ctx: RequestContext): string {
  const address = ctx.clientAddress;
  const host = address.startsWith('[')
    ? address.slice(1, address.indexOf(']'))
    : address.slice(0, Math.max(0, address.lastIndexOf(':')));
  return `/${host || address}`;
}
