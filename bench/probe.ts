/**
 * A loopback TCP relay in front of a server that notes when the first bytes of a request reach
 * it, without touching the request: how start-up is timed against an unchanged fake.
 */
import { connect, createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Probe {
  /** `target` with the relay's port. */
  url: string;
  /** `performance.now()` when the first request since the last `reset()` arrived. */
  firstRequestAt(): number | undefined;
  reset(): void;
  close(): Promise<void>;
}

export async function startProbe(target: string): Promise<Probe> {
  const to = new URL(target);
  let first: number | undefined;
  const server = createServer((client) => {
    client.once('data', () => (first ??= performance.now()));
    const upstream = connect(Number(to.port), to.hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = new URL(target);
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    firstRequestAt: () => first,
    reset: () => (first = undefined),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
