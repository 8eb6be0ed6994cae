/** Which requests go through the proxy, and with what: src/net/proxy.ts without a network. */
import { describe, expect, it } from 'vitest';
import { proxyAwareAgents, proxyDispatcher, proxyFor, proxyUrl } from '../../src/net/proxy.js';

describe('proxyFor', () => {
  const url = new URL('https://pipelines.actions.githubusercontent.com/abc/token');
  it.each([
    [{}, null],
    [{ HTTPS_PROXY: 'http://proxy:3128' }, 'http://proxy:3128'],
    [{ https_proxy: 'http://lower:3128' }, 'http://lower:3128'],
    [{ https_proxy: 'http://lower:3128', HTTPS_PROXY: 'http://upper:3128' }, 'http://lower:3128'],
    [{ HTTP_PROXY: 'http://proxy:3128' }, null],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com, githubusercontent.com' }, null],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.actions.githubusercontent.com' }, null],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*.githubusercontent.com' }, null],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'PIPELINES.Actions.GithubUserContent.com' }, null],
    [{ HTTPS_PROXY: 'http://proxy:3128', no_proxy: '*' }, null],
    [
      { HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'example.com', NO_PROXY: 'githubusercontent.com' },
      'http://proxy:3128',
    ],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'githubusercontent.com:443' }, null],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'githubusercontent.com:8443' }, 'http://proxy:3128'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'usercontent.com' }, 'http://proxy:3128'],
    [{ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: ' , ' }, 'http://proxy:3128'],
  ] as const)('%o → %s', (env, expected) => {
    expect(proxyFor(url, env)).toBe(expected);
  });

  it('takes http_proxy/HTTP_PROXY for http://, lower case first', () => {
    const target = new URL('http://example.com/');
    expect(proxyFor(target, { HTTPS_PROXY: 'http://tls:3128' })).toBeNull();
    expect(proxyFor(target, { HTTP_PROXY: 'http://upper:3128' })).toBe('http://upper:3128');
    expect(proxyFor(target, { http_proxy: 'http://lower:3128', HTTP_PROXY: 'http://upper:3128' })).toBe(
      'http://lower:3128',
    );
  });

  it('matches a NO_PROXY port against the default port of the scheme', () => {
    const env = { HTTP_PROXY: 'http://proxy:3128', HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'aws.test:80' };
    expect(proxyFor(new URL('http://iam.aws.test/'), env)).toBeNull();
    expect(proxyFor(new URL('https://iam.aws.test/'), env)).toBe('http://proxy:3128');
    expect(proxyFor(new URL('https://iam.aws.test:80/'), env)).toBeNull();
  });

  it('lets NO_PROXY=.amazonaws.com send every AWS endpoint directly', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'localhost,.amazonaws.com' };
    for (const host of ['sts.us-east-1.amazonaws.com', 'iam.amazonaws.com', 'organizations.us-east-1.amazonaws.com']) {
      expect(proxyFor(new URL(`https://${host}/`), env)).toBeNull();
    }
    expect(proxyFor(new URL('https://api.github.com/'), env)).toBe('http://proxy:3128');
  });

  it('never proxies loopback', () => {
    const env = { HTTP_PROXY: 'http://proxy:3128', HTTPS_PROXY: 'http://proxy:3128' };
    for (const host of ['127.0.0.1:80', 'localhost', 'LOCALHOST:8080', '[::1]:8080', '127.9.9.9']) {
      expect(proxyFor(new URL(`http://${host}/token`), env)).toBeNull();
      expect(proxyFor(new URL(`https://${host}/token`), env)).toBeNull();
    }
    expect(proxyFor(new URL('http://128.0.0.1/'), env)).toBe('http://proxy:3128');
  });
});

describe('proxyUrl', () => {
  it('reads a proxy without a scheme as http://', () => {
    expect(proxyUrl('proxy.corp:3128').href).toBe('http://proxy.corp:3128/');
    expect(proxyUrl('10.0.0.1:3128').href).toBe('http://10.0.0.1:3128/');
  });

  it('keeps a scheme and credentials', () => {
    expect(proxyUrl('https://proxy.corp:8443').href).toBe('https://proxy.corp:8443/');
    expect(proxyUrl('http://user:p%40ss@proxy.corp:3128').password).toBe('p%40ss');
  });
});

describe('proxyDispatcher', () => {
  it('gives no dispatcher (undici goes directly) without a proxy, for NO_PROXY hosts and loopback', () => {
    expect(proxyDispatcher('https://oapi.dingtalk.com/robot/send', {})).toBeUndefined();
    const env = { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: 'dingtalk.com' };
    expect(proxyDispatcher('https://oapi.dingtalk.com/robot/send', env)).toBeUndefined();
    expect(proxyDispatcher(new URL('https://127.0.0.1:8443/'), env)).toBeUndefined();
  });

  it('gives one agent per proxy for the whole run', () => {
    const env = { HTTPS_PROXY: 'http://127.0.0.1:9' };
    const first = proxyDispatcher('https://oapi.dingtalk.com/robot/send', env);
    expect(first).toBeDefined();
    expect(proxyDispatcher(new URL('https://open.feishu.cn/open-apis/bot/v2/hook/x'), env)).toBe(first);
    expect(proxyDispatcher('https://hooks.slack.com/services/x', { HTTPS_PROXY: 'http://127.0.0.2:9' })).not.toBe(
      first,
    );
  });
});

describe('proxyAwareAgents', () => {
  it('gives the SDK an http and an https agent that keep connections alive', () => {
    const { httpAgent, httpsAgent } = proxyAwareAgents({});
    // What Node's client reads of an agent: its scheme, and whether to keep the connection.
    const seen = (agent: object) => agent as { protocol: string; keepAlive: boolean };
    expect(seen(httpAgent)).toMatchObject({ protocol: 'http:', keepAlive: true });
    expect(seen(httpsAgent)).toMatchObject({ protocol: 'https:', keepAlive: true });
    httpAgent.destroy();
    httpsAgent.destroy();
  });
});
