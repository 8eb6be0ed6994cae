// TEMPORARY until the proxy branch merges: not to be committed.
import { ProxyAgent, type Dispatcher } from 'undici';
import { proxyFor } from '../runner/oidc.js';
export function proxyDispatcher(url: URL | string, env: NodeJS.ProcessEnv = process.env): Dispatcher | undefined {
  const p = proxyFor(new URL(url), env);
  return p ? new ProxyAgent(p) : undefined;
}
