/**
 * How a request to an outside party leaves the runner: directly, or through the proxy that
 * `HTTPS_PROXY`/`HTTP_PROXY` name, chosen per host as the runner's toolkit chooses (`NO_PROXY`
 * honoured, loopback never proxied). Self-hosted runners often reach the internet only through a
 * proxy, so every client of the action takes its transport from here: undici requests (the OIDC
 * token, the chats, GitHub) a dispatcher, the AWS SDK a pair of agents.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Agent as AgentBase, type AgentConnectOpts } from 'agent-base';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { Pool, ProxyAgent, type Dispatcher } from 'undici';

/**
 * How long the proxy has to answer an undici `CONNECT`: as long as undici gives a direct
 * connection. An undici request's own time-out (its abort signal) cannot end it sooner: undici
 * aborts a request only once it has a connection, and through a proxy the tunnel is the
 * connection. Without this, a proxy that never answers would hold the request for undici's 300 s
 * wait for an answer's headers.
 */
export const PROXY_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The proxy for `url` as the runner's toolkit chooses it (`@actions/http-client`): `https_proxy`
 * or `HTTPS_PROXY` for https (`http_proxy`/`HTTP_PROXY` for http), except for loopback hosts and
 * hosts `no_proxy`/`NO_PROXY` lists (a name matches itself and its subdomains; `*` matches all;
 * an entry with a port matches only that port). `null` for a direct connection.
 */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): string | null {
  const proxy = url.protocol === 'https:' ? env.https_proxy || env.HTTPS_PROXY : env.http_proxy || env.HTTP_PROXY;
  if (!proxy) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))) return null;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const bypass = (env.no_proxy || env.NO_PROXY || '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      const [name = '', entryPort] = entry.replace(/^\*?\./, '').split(':');
      if (entryPort && entryPort !== port) return false;
      return host === name || host.endsWith(`.${name}`);
    });
  return bypass ? null : proxy;
}

/**
 * The proxy's address as a URL. A value without a scheme (`proxy.corp:3128`, as some runners are
 * set up) is an http:// proxy: read as a URL it would have the scheme `proxy.corp` and no host.
 */
export function proxyUrl(proxy: string): URL {
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`);
}

/** One undici agent per proxy for the whole run: its tunnels are kept alive and reused. */
const dispatchers = new Map<string, ProxyAgent>();

/**
 * The undici dispatcher for a request to `url`: an agent for the proxy that applies, or
 * `undefined` to go directly (undici's global dispatcher). Pass it as `request(url, { dispatcher })`.
 */
export function proxyDispatcher(url: URL | string, env: NodeJS.ProcessEnv = process.env): Dispatcher | undefined {
  const proxy = proxyFor(typeof url === 'string' ? new URL(url) : url, env);
  if (!proxy) return undefined;
  let agent = dispatchers.get(proxy);
  if (!agent) {
    agent = new ProxyAgent({
      uri: proxyUrl(proxy).href,
      clientFactory: (origin, options) => new Pool(origin, { ...options, headersTimeout: PROXY_CONNECT_TIMEOUT_MS }),
    });
    dispatchers.set(proxy, agent);
  }
  return agent;
}

/** The agents to give the AWS SDK's `NodeHttpHandler` (`httpAgent`, `httpsAgent`). */
export interface ProxyAwareAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

/**
 * Agents for the AWS SDK that choose per request, by the target host, between a direct
 * keep-alive connection and the proxy (a `CONNECT` tunnel for https). Each call makes new agents;
 * the SDK destroys them, and all they opened, when its client is destroyed.
 */
export function proxyAwareAgents(env: NodeJS.ProcessEnv = process.env): ProxyAwareAgents {
  return {
    httpAgent: new RoutingAgent(false, env),
    // An https.Agent in all but its class: Node's https.request takes any agent whose protocol is https:.
    httpsAgent: new RoutingAgent(true, env) as unknown as https.Agent,
  };
}

/** As the SDK makes its own: keep-alive, at most 50 sockets a host. */
const POOL: http.AgentOptions = { keepAlive: true, maxSockets: 50 };

/**
 * Hands each request to the agent for its host: the direct pool, or the proxy's (created once a
 * proxy). Holds no sockets itself, so the SDK's time-outs see the socket of the agent that does.
 */
class RoutingAgent extends AgentBase {
  private readonly direct: http.Agent;
  private readonly proxied = new Map<string, http.Agent>();

  constructor(
    private readonly secure: boolean,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    // keepAlive here is what makes Node's client keep the connection for the next request.
    super({ keepAlive: true });
    this.protocol = secure ? 'https:' : 'http:';
    this.direct = secure ? new https.Agent(POOL) : new http.Agent(POOL);
  }

  override isSecureEndpoint(): boolean {
    return this.secure;
  }

  override connect(_req: http.ClientRequest, options: AgentConnectOpts): http.Agent {
    const host = options.host ?? 'localhost';
    const target = new URL(`${this.protocol}//${isIP(host) === 6 ? `[${host}]` : host}:${options.port}`);
    const proxy = proxyFor(target, this.env);
    if (!proxy) return this.direct;
    let agent = this.proxied.get(proxy);
    if (!agent) {
      agent = this.secure ? new TunnelAgent(proxyUrl(proxy), POOL) : new HttpProxyAgent(proxyUrl(proxy), POOL);
      this.proxied.set(proxy, agent);
    }
    return agent;
  }

  override destroy(): void {
    super.destroy();
    this.direct.destroy();
    for (const agent of this.proxied.values()) agent.destroy();
  }
}

/**
 * https-proxy-agent's tunnel, whose connection to the proxy is closed when the request is given up
 * before the proxy answered its `CONNECT` (the SDK's connection time-out destroys the request),
 * and when the agent is destroyed (the SDK client is). Left open, it would keep the process alive
 * for as long as the proxy cares to wait. A destroyed request says nothing until it has a socket,
 * so its `destroy` is watched while the tunnel is being opened.
 */
class TunnelAgent extends HttpsProxyAgent<string> {
  private readonly pending = new Set<AbortController>();

  override async connect(req: http.ClientRequest, options: AgentConnectOpts) {
    const abort = new AbortController();
    this.pending.add(abort);
    const destroy = req.destroy;
    req.destroy = function (this: http.ClientRequest, error?: Error) {
      abort.abort();
      return destroy.call(this, error);
    };
    // The parent opens its socket with connectOpts before its first await: the signal reaches it.
    this.connectOpts.signal = abort.signal;
    const tunnel = super.connect(req, options);
    delete this.connectOpts.signal;
    try {
      return await tunnel;
    } finally {
      req.destroy = destroy;
      this.pending.delete(abort);
    }
  }

  override destroy(): void {
    for (const abort of this.pending) abort.abort();
    super.destroy();
  }
}
