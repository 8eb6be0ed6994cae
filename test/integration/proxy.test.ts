/**
 * Every outside party through the runner's proxy (src/net/proxy.ts): the AWS SDK clients built
 * with `awsRequestHandler`, undici requests with `proxyDispatcher` (the OIDC token, the chats) and
 * the tracking issue's Octokit, against the loopback fake proxy (test/fakes/proxy.ts) in front of
 * the loopback fakes, under names only the proxy can reach.
 *
 * The fake proxy opens https tunnels with a certificate of the test CA, and Node reads
 * NODE_EXTRA_CA_CERTS at start only: requests over https run in a fresh Node process
 * (test/helpers/proxy-probe.ts) that trusts it. The rest run here.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsRequestHandler, type AwsHttpTimeouts } from '../../src/aws/http.js';
import { PROXY_CONNECT_TIMEOUT_MS, proxyDispatcher } from '../../src/net/proxy.js';
import { requestIdToken } from '../../src/runner/oidc.js';
import { createGithubClient } from '../../src/tracking-issue/github-client.js';
import { startFakeAws, type FakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakeOidc } from '../fakes/oidc.js';
import {
  behindProxy,
  PROXIED_HOSTS,
  startFakeProxy,
  TEST_CA_FILE,
  type FakeProxy,
  type FakeProxyOptions,
} from '../fakes/proxy.js';
import { startFakeWecom } from '../fakes/wecom.js';
import type { Probe, ProbeResult } from '../helpers/proxy-probe.js';

const closers: Array<() => Promise<void>> = [];
const savedEnv = { ...process.env };
beforeEach(() => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
});
afterEach(async () => {
  process.env = { ...savedEnv };
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function awsFake(): Promise<FakeAws> {
  const fake = await startFakeAws({ account: demoAccount() });
  closers.push(() => fake.close());
  return fake;
}

async function githubFake(): Promise<FakeGithub> {
  const fake = await startFakeGithub();
  closers.push(() => fake.close());
  return fake;
}

async function proxyFake(options: FakeProxyOptions): Promise<FakeProxy> {
  const proxy = await startFakeProxy(options);
  closers.push(() => proxy.close());
  return proxy;
}

/** A server that answers every request with what it was asked. */
async function echoServer(): Promise<string> {
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`${req.method} ${req.url} for ${req.headers.host}`);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  closers.push(() => new Promise((done) => server.close(() => done())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const PROBE = resolve(import.meta.dirname, '../helpers/proxy-probe.ts');

/** Runs one probe in a Node process that trusts the test CA and uses `proxy`. */
async function probe(p: Probe, proxy: FakeProxy, env: Record<string, string> = {}): Promise<ProbeResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', PROBE, JSON.stringify(p)], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_EXTRA_CA_CERTS: TEST_CA_FILE,
      HTTPS_PROXY: proxy.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the probe exited with ${code}: ${stderr}`);
  return JSON.parse(stdout) as ProbeResult;
}

const FAST: AwsHttpTimeouts = { connectionTimeoutMs: 500, requestTimeoutMs: 2_000, idleTimeoutMs: 2_000 };
const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/** An STS client as the action builds one, with the proxy variables in `env`. */
function sts(endpoint: string, env: NodeJS.ProcessEnv, timeouts = FAST): STSClient {
  const client = new STSClient({
    region: 'us-east-1',
    endpoint,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: awsRequestHandler(timeouts, env),
  });
  closers.push(async () => client.destroy());
  return client;
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (check()) return true;
    await new Promise((done) => setTimeout(done, 20));
  }
  return check();
}

describe('the AWS SDK clients (awsRequestHandler)', () => {
  it('send https requests through a CONNECT tunnel to the proxy, several over one tunnel', async () => {
    const aws = await awsFake();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.sts]: aws.url } });

    const result = await probe({ kind: 'sts', endpoint: `https://${PROXIED_HOSTS.sts}`, requests: 3 }, proxy);

    expect(result.ok).toEqual(['111111111111', '111111111111', '111111111111']);
    expect(aws.count('GetCallerIdentity')).toBe(3);
    expect(proxy.tunnels()).toEqual([{ host: 'sts.aws.test', port: 443, accepted: true }]);
    expect(proxy.requests()).toEqual(
      Array(3).fill({ method: 'POST', host: 'sts.aws.test', path: '/', tunnelled: true }),
    );
  });

  it('send IAM requests to https://iam.aws.test through the proxy', async () => {
    const aws = await awsFake();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.iam]: aws.url } });

    const result = await probe({ kind: 'iam', endpoint: `https://${PROXIED_HOSTS.iam}` }, proxy);

    expect(result.ok).toEqual(
      demoAccount()
        .users.map((u) => u.name)
        .sort(),
    );
    expect(proxy.requests()).toEqual([{ method: 'POST', host: 'iam.aws.test', path: '/', tunnelled: true }]);
  });

  it('go directly to a host NO_PROXY lists', async () => {
    const aws = await awsFake();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.iam]: aws.url } });

    for (const noProxy of ['aws.test', '.aws.test', 'iam.aws.test:443']) {
      const client = sts('https://iam.aws.test', { HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });
      // Directly, the made-up name does not resolve.
      await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    }
    expect(proxy.tunnels()).toEqual([]);
    expect(proxy.requests()).toEqual([]);
  });

  it('never send a loopback endpoint through the proxy', async () => {
    const aws = await awsFake();
    const proxy = await proxyFake({});

    const out = await sts(aws.url, { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }).send(
      new GetCallerIdentityCommand({}),
    );

    expect(out.Account).toBe('111111111111');
    expect(proxy.requests()).toEqual([]);
  });

  it('send http requests to HTTP_PROXY in absolute form', async () => {
    const aws = await awsFake();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.sts]: aws.url } });

    const out = await sts('http://sts.aws.test', { HTTP_PROXY: proxy.url }).send(new GetCallerIdentityCommand({}));

    expect(out.Account).toBe('111111111111');
    expect(proxy.tunnels()).toEqual([]);
    expect(proxy.requests()).toEqual([{ method: 'POST', host: 'sts.aws.test', path: '/', tunnelled: false }]);
  });

  it('give up within the connection time-out on a CONNECT the proxy never answers, and hang up on it', async () => {
    const proxy = await proxyFake({ stall: { [PROXIED_HOSTS.sts]: 'connect' } });
    const started = Date.now();

    const failure = sts('https://sts.aws.test', { HTTPS_PROXY: proxy.url }).send(new GetCallerIdentityCommand({}));

    await expect(failure).rejects.toMatchObject({
      name: 'TimeoutError',
      message: expect.stringContaining('did not establish a connection'),
    });
    expect(Date.now() - started).toBeLessThan(FAST.connectionTimeoutMs + 1_000);
    expect(proxy.tunnels()).toEqual([{ host: 'sts.aws.test', port: 443, accepted: false }]);
    // An open connection to the proxy would keep the action's process alive after it is done.
    expect(await until(() => proxy.openConnections() === 0, 1_000)).toBe(true);
  });

  it.each([
    ['request', { connectionTimeoutMs: 1_000, requestTimeoutMs: 1_500, idleTimeoutMs: 10_000 }, /requestTimeout/],
    ['idle', { connectionTimeoutMs: 1_000, requestTimeoutMs: 10_000, idleTimeoutMs: 1_500 }, /inactivity/],
  ] as const)(
    'give up within the %s time-out when the proxy holds the tunnel without answering',
    async (_which, timeouts, message) => {
      const proxy = await proxyFake({ stall: { [PROXIED_HOSTS.sts]: 'answer' } });

      const result = await probe({ kind: 'sts', endpoint: `https://${PROXIED_HOSTS.sts}`, timeouts }, proxy);

      expect(result.error).toMatchObject({ name: 'TimeoutError', message: expect.stringMatching(message) });
      expect(result.ms).toBeGreaterThanOrEqual(1_400);
      expect(result.ms).toBeLessThan(3_000);
      expect(proxy.requests()).toEqual([{ method: 'POST', host: 'sts.aws.test', path: '/', tunnelled: true }]);
    },
  );
});

describe('undici requests (proxyDispatcher)', () => {
  it('go through a CONNECT tunnel to an https chat', async () => {
    const echo = await echoServer();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.dingtalk]: echo } });

    const url = 'https://oapi.dingtalk.com/robot/send?access_token=t0ken';
    const result = await probe({ kind: 'undici', url }, proxy);

    expect(result.ok).toEqual({ status: 200, body: 'GET /robot/send?access_token=t0ken for oapi.dingtalk.com' });
    expect(proxy.tunnels()).toEqual([{ host: 'oapi.dingtalk.com', port: 443, accepted: true }]);
    expect(proxy.requests()).toEqual([
      { method: 'GET', host: 'oapi.dingtalk.com', path: '/robot/send?access_token=t0ken', tunnelled: true },
    ]);
  });

  it("carry the WeCom client's robot message through the proxy", async () => {
    const wecom = await startFakeWecom();
    closers.push(() => wecom.close());
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.wecom]: wecom.url } });

    const webhookUrl = behindProxy(wecom.webhookUrl, PROXIED_HOSTS.wecom);
    const result = await probe({ kind: 'wecom', webhookUrl }, proxy);

    expect(result.ok).toBe('sent');
    expect(wecom.messages).toHaveLength(1);
    expect(proxy.requests()).toMatchObject([{ method: 'POST', host: 'qyapi.weixin.qq.com', tunnelled: true }]);
  });

  it("carry the OIDC token request through the proxy (http://, tunnelled as the runner's toolkit does)", async () => {
    const oidc = await startFakeOidc();
    closers.push(() => oidc.close());
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.oidc]: oidc.url } });
    const { pathname, search } = new URL(oidc.url);

    const token = await requestIdToken('sts.amazonaws.com', {
      env: {
        ACTIONS_ID_TOKEN_REQUEST_URL: `http://${PROXIED_HOSTS.oidc}${pathname}${search}`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
        HTTP_PROXY: proxy.url,
      },
      setSecret: () => {},
      sleep: async () => {},
      attempts: 1,
    });

    expect(oidc.issuedTokens).toEqual([token]);
    expect(proxy.tunnels()).toEqual([{ host: 'oidc.github.test', port: 80, accepted: true }]);
    expect(proxy.requests()).toMatchObject([{ method: 'GET', host: 'oidc.github.test', tunnelled: true }]);
  });

  it("end at the request's time-out when the proxy holds the tunnel without answering", async () => {
    const proxy = await proxyFake({ stall: { [PROXIED_HOSTS.dingtalk]: 'answer' } });

    const result = await probe(
      { kind: 'undici', url: 'https://oapi.dingtalk.com/robot/send', timeoutMs: 1_000 },
      proxy,
    );

    expect(result.error).toMatchObject({ name: 'TimeoutError' });
    expect(result.ms).toBeLessThan(2_000);
    expect(proxy.requests()).toHaveLength(1);
  });

  it(
    'end within PROXY_CONNECT_TIMEOUT_MS when the proxy never answers the CONNECT',
    async () => {
      // undici aborts a request only once it has a connection, so its own time-out cannot end it
      // sooner: this is the longest a chat or the OIDC request can wait for a silent proxy.
      const proxy = await proxyFake({ stall: { [PROXIED_HOSTS.dingtalk]: 'connect' } });
      const url = 'https://oapi.dingtalk.com/robot/send';
      const started = Date.now();

      const failure = request(url, {
        dispatcher: proxyDispatcher(url, { HTTPS_PROXY: proxy.url }),
        signal: AbortSignal.timeout(500),
      });

      await expect(failure).rejects.toThrow();
      expect(Date.now() - started).toBeGreaterThanOrEqual(PROXY_CONNECT_TIMEOUT_MS - 100);
      expect(Date.now() - started).toBeLessThan(PROXY_CONNECT_TIMEOUT_MS + 2_000);
    },
    PROXY_CONNECT_TIMEOUT_MS + 5_000,
  );
});

describe("the tracking issue's Octokit (createGithubClient)", () => {
  it('goes through the proxy to https://api.github.test, several requests over one tunnel', async () => {
    const github = await githubFake();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.github]: github.url } });

    const result = await probe({ kind: 'github', baseUrl: 'https://api.github.test', requests: 3 }, proxy);

    expect(result.ok).toEqual(Array(3).fill('octo-org/security'));
    expect(proxy.tunnels()).toEqual([{ host: 'api.github.test', port: 443, accepted: true }]);
    expect(proxy.requests()).toEqual(
      Array(3).fill({ method: 'GET', host: 'api.github.test', path: '/repos/octo-org/security', tunnelled: true }),
    );
  });

  it('reads the proxy variables when the client is used, not when the module loaded', async () => {
    const github = await githubFake();
    const proxy = await proxyFake({ routes: { [PROXIED_HOSTS.github]: github.url } });
    process.env.HTTP_PROXY = proxy.url;

    const client = createGithubClient({ token: 'ghs_x', baseUrl: 'http://api.github.test', info: () => {} });
    const repo = await client.octokit.rest.repos.get({ owner: 'octo-org', repo: 'security' });

    expect(repo.data.full_name).toBe('octo-org/security');
    expect(proxy.requests()).toMatchObject([{ host: 'api.github.test', path: '/repos/octo-org/security' }]);
  });

  it('goes directly to a host NO_PROXY lists', async () => {
    const proxy = await proxyFake({});
    process.env.HTTPS_PROXY = proxy.url;
    process.env.NO_PROXY = 'localhost,.github.test';

    const client = createGithubClient({
      token: 'ghs_x',
      baseUrl: 'https://api.github.test',
      retryUnitMs: 1,
      info: () => {},
    });

    await expect(client.octokit.rest.repos.get({ owner: 'octo-org', repo: 'security' })).rejects.toThrow(
      /ENOTFOUND|fetch failed/,
    );
    expect(proxy.tunnels()).toEqual([]);
  });
});

describe('the fake proxy', () => {
  it('passes 15 MB bodies through unchanged both ways, headers too', async () => {
    const answer = randomBytes(15 * 1024 * 1024);
    const server: Server = createServer(async (req, res) => {
      const hash = createHash('sha256');
      for await (const chunk of req) hash.update(chunk as Buffer);
      res.writeHead(200, { 'x-request-sha256': hash.digest('hex'), 'x-echo': String(req.headers['x-echo']) });
      res.end(answer);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    closers.push(() => new Promise((done) => server.close(() => done())));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await proxyFake({ routes: { 'big.test': target } });
    const body = randomBytes(15 * 1024 * 1024);

    const url = 'http://big.test/upload';
    const res = await request(url, {
      method: 'POST',
      body,
      headers: { 'x-echo': 'unchanged' },
      dispatcher: proxyDispatcher(url, { HTTP_PROXY: proxy.url }),
    });
    const received = Buffer.from(await res.body.arrayBuffer());

    expect(res.headers['x-request-sha256']).toBe(createHash('sha256').update(body).digest('hex'));
    expect(res.headers['x-echo']).toBe('unchanged');
    expect(received.equals(answer)).toBe(true);
    expect(proxy.requests()).toEqual([{ method: 'POST', host: 'big.test', path: '/upload', tunnelled: true }]);
  });
});
