/**
 * Loopback fake of a runner's forward proxy, for tests that check every outside request goes
 * through `HTTPS_PROXY`. It answers what a proxy is asked:
 *
 * - plain-HTTP requests in absolute form (`GET http://host/path`), forwarded to the route of
 *   `host`;
 * - `CONNECT host:port` tunnels. The fake terminates the tunnel's TLS itself (a man in the middle)
 *   with a certificate from the test CA in test/fixtures/tls, reads the HTTP requests inside (as
 *   many as the client sends on the kept-alive tunnel) and forwards each to the route of `host`.
 *   A tunnel that carries plain HTTP (undici tunnels http:// targets too) is read the same way.
 *
 * Routes map a public-looking host name to a plain-HTTP loopback fake (`{ 'iam.aws.test':
 * aws.url }`); a host without a route gets 502 (its `CONNECT` too). Methods, paths, headers and
 * bodies pass through unchanged, streamed both ways. The client must trust the test CA:
 * `NODE_EXTRA_CA_CERTS=TEST_CA_FILE`, read by Node at start only, so a process started for it.
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';

const TLS_DIR = resolve(import.meta.dirname, '../fixtures/tls');

/** The test CA's certificate: give it to the client (`NODE_EXTRA_CA_CERTS`) to trust the fake. */
export const TEST_CA_FILE = resolve(TLS_DIR, 'ca.pem');

/** How the fake misbehaves for a host: never answers its `CONNECT`, or never answers its requests. */
export type ProxyStall = 'connect' | 'answer';

export interface FakeProxyOptions {
  /** Host name (lower case) → the loopback server its requests go to, `http://127.0.0.1:PORT`. */
  routes?: Record<string, string>;
  /** Host name → how the fake leaves it hanging, for time-out tests. */
  stall?: Record<string, ProxyStall>;
}

export interface ProxiedRequest {
  method: string;
  /** The host the client asked for (the `CONNECT` target, or the absolute URL's), without the port. */
  host: string;
  /** Path and query. */
  path: string;
  /** Came through a `CONNECT` tunnel (rather than as an absolute-URI request). */
  tunnelled: boolean;
}

export interface ProxyTunnel {
  host: string;
  port: number;
  /** The fake answered 200 (not 502 for a host without a route, nor nothing for a stall). */
  accepted: boolean;
}

export interface FakeProxy {
  /** Value for `HTTPS_PROXY`/`HTTP_PROXY`: `http://127.0.0.1:PORT`. */
  url: string;
  /** Every HTTP request the proxy read, in order, answered or not. */
  requests(): ProxiedRequest[];
  /** Every `CONNECT`, in order. Fewer tunnels than tunnelled requests means kept-alive tunnels. */
  tunnels(): ProxyTunnel[];
  /** Client connections still open, tunnels included: a client that gave up should have closed its own. */
  openConnections(): number;
  /** Adds or replaces a route (for a fake started after the proxy). */
  route(host: string, target: string): void;
  /** Stops listening and destroys every open connection, tunnels included. */
  close(): Promise<void>;
}

export async function startFakeProxy(options: FakeProxyOptions = {}): Promise<FakeProxy> {
  const routes = new Map(Object.entries(options.routes ?? {}).map(([host, target]) => [host.toLowerCase(), target]));
  const stall = new Map(Object.entries(options.stall ?? {}).map(([host, how]) => [host.toLowerCase(), how]));
  const secureContext = createSecureContext({
    key: readFileSync(resolve(TLS_DIR, 'proxy.key')),
    cert: readFileSync(resolve(TLS_DIR, 'proxy.pem')),
  });
  const recorded: ProxiedRequest[] = [];
  const tunnels: ProxyTunnel[] = [];
  /** Every open stream: client connections, and the TLS and plain streams inside tunnels. */
  const sockets = new Set<Duplex>();
  const clients = new Set<Duplex>();
  const upstream = new Agent({ keepAlive: true });
  /** The `CONNECT` host of each tunnel's inner stream. */
  const tunnelHost = new WeakMap<object, string>();

  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  /** Answers one request: forwarded to the host's route, or 502, or (stalled) never. */
  const forward = (host: string, path: string, tunnelled: boolean, req: IncomingMessage, res: ServerResponse) => {
    recorded.push({ method: req.method ?? 'GET', host, path, tunnelled });
    if (stall.get(host) === 'answer') return;
    const target = routes.get(host);
    if (!target) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`fake proxy: no route to ${host}\n`);
      return;
    }
    const to = new URL(target);
    const out = request(
      { host: to.hostname, port: to.port, method: req.method, path, headers: req.rawHeaders, agent: upstream },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`fake proxy: ${host} did not answer\n`);
    });
    req.pipe(out);
  };

  // Reads the requests inside tunnels: fed the tunnels' streams, never listening itself.
  const inner = createServer((req, res) => {
    forward(tunnelHost.get(req.socket) ?? '', req.url ?? '/', true, req, res);
  });

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('fake proxy: not an absolute URL\n');
      return;
    }
    forward(url.hostname.toLowerCase(), `${url.pathname}${url.search}`, false, req, res);
  });
  server.on('connection', (socket: Socket) => {
    track(socket);
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
  });

  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const authority = /^\[?([^\]]*?)\]?:(\d+)$/.exec(req.url ?? '');
    const host = (authority?.[1] ?? '').toLowerCase();
    const port = Number(authority?.[2] ?? 0);
    const how = stall.get(host);
    const accepted = how === 'answer' || (how !== 'connect' && routes.has(host));
    tunnels.push({ host, port, accepted });
    // Detached from the HTTP server, which no longer handles its errors nor its half-close.
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end());
    if (how === 'connect') return;
    if (!accepted) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    // TLS or plain HTTP: the client's first byte says (22 opens a TLS handshake).
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const plain = asStream(socket);
      const stream = first[0] === 0x16 ? new TLSSocket(plain, { isServer: true, secureContext }) : plain;
      track(stream);
      tunnelHost.set(stream, host);
      inner.emit('connection', stream);
    });
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => recorded.map((r) => ({ ...r })),
    tunnels: () => tunnels.map((t) => ({ ...t })),
    openConnections: () => clients.size,
    route: (host, target) => void routes.set(host.toLowerCase(), target),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      upstream.destroy();
      inner.close();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * The socket as a stream without a handle. TLS and HTTP given a socket read its handle directly,
 * and would miss the bytes already read from it to tell TLS from plain HTTP.
 */
function asStream(socket: Socket): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, encoding, done) => void socket.write(chunk, encoding, done),
    final: (done) => void socket.end(done),
    destroy: (err, done) => {
      socket.destroy();
      done(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('error', (err) => stream.destroy(err));
  socket.on('close', () => stream.destroy());
  return stream;
}

/** The public-looking name each fake goes by behind the proxy; all are in the test certificate. */
export const PROXIED_HOSTS = {
  iam: 'iam.aws.test',
  sts: 'sts.aws.test',
  organizations: 'organizations.aws.test',
  github: 'api.github.test',
  oidc: 'oidc.github.test',
  wecom: 'qyapi.weixin.qq.com',
  dingtalk: 'oapi.dingtalk.com',
  feishu: 'open.feishu.cn',
  lark: 'open.larksuite.com',
  slack: 'hooks.slack.com',
} as const;

/**
 * A loopback fake's URL under `host`, over https, path and query kept: what a client behind the
 * proxy asks for. `http://127.0.0.1:PORT/cgi-bin/webhook/send?key=K` →
 * `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K`; a bare origin stays bare.
 */
export function behindProxy(url: string, host: string): string {
  const { pathname, search } = new URL(url);
  return `https://${host}${pathname === '/' && !search ? '' : pathname}${search}`;
}

export interface ProxiedFakes {
  aws?: { url: string };
  oidc?: { url: string; requestToken: string };
  github?: { url: string; owner: string; repo: string };
  /** Host name (a chat's, from `PROXIED_HOSTS`) → its fake. Turn the webhook URLs with `behindProxy`. */
  chats?: Record<string, { url: string }>;
}

/**
 * The fake proxy in front of the fakes given, and the environment that sends the action through
 * it: what `fakeEndpoints` (test/helpers/action-process.ts) gives, under names only the proxy can
 * reach, with `HTTPS_PROXY` and `NODE_EXTRA_CA_CERTS` (the test CA). A request that skipped the
 * proxy fails to resolve its host. `runAction({ env })` passes nothing else from this process.
 */
export async function startProxyInFront(
  fakes: ProxiedFakes,
  options: Omit<FakeProxyOptions, 'routes'> = {},
): Promise<{ proxy: FakeProxy; env: Record<string, string> }> {
  const routes: Record<string, string> = {};
  const env: Record<string, string> = {};
  if (fakes.aws) {
    for (const [service, host] of [
      ['IAM', PROXIED_HOSTS.iam],
      ['STS', PROXIED_HOSTS.sts],
      ['ORGANIZATIONS', PROXIED_HOSTS.organizations],
    ] as const) {
      routes[host] = fakes.aws.url;
      env[`AWS_ENDPOINT_URL_${service}`] = `https://${host}`;
    }
  }
  if (fakes.oidc) {
    routes[PROXIED_HOSTS.oidc] = fakes.oidc.url;
    env.ACTIONS_ID_TOKEN_REQUEST_URL = behindProxy(fakes.oidc.url, PROXIED_HOSTS.oidc);
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = fakes.oidc.requestToken;
  }
  if (fakes.github) {
    routes[PROXIED_HOSTS.github] = fakes.github.url;
    env.GITHUB_API_URL = `https://${PROXIED_HOSTS.github}`;
    env.GITHUB_REPOSITORY = `${fakes.github.owner}/${fakes.github.repo}`;
  }
  for (const [host, fake] of Object.entries(fakes.chats ?? {})) routes[host] = fake.url;
  const proxy = await startFakeProxy({ ...options, routes });
  return { proxy, env: { ...env, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: TEST_CA_FILE } };
}
