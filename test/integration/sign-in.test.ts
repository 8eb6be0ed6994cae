/**
 * Signing in: src/runner/oidc.ts against the loopback fake of the runner's token endpoint, and
 * src/aws/credentials.ts (the real STS client) against the fake STS, with their faults.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assumeRoleWithOidc, getCallerIdentity, type SignInOptions } from '../../src/aws/credentials.js';
import { IdTokenError, requestIdToken, type IdTokenDeps } from '../../src/runner/oidc.js';
import { startFakeAws, type FakeAws, type FakeAwsOptions } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeOidc, type FakeOidc, type FakeOidcOptions } from '../fakes/oidc.js';

const closers: Array<() => Promise<void>> = [];
const savedEnv = { ...process.env };
beforeEach(() => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
});
afterEach(async () => {
  process.env = { ...savedEnv };
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function oidcFake(opts?: FakeOidcOptions): Promise<FakeOidc> {
  const fake = await startFakeOidc(opts);
  closers.push(() => fake.close());
  return fake;
}

async function awsFake(options: Omit<FakeAwsOptions, 'account'> = {}): Promise<FakeAws> {
  const fake = await startFakeAws({ account: demoAccount(), ...options });
  closers.push(() => fake.close());
  process.env.AWS_ENDPOINT_URL_STS = fake.url;
  return fake;
}

type Recorded = IdTokenDeps & { secrets: string[]; slept: number[]; said: string[] };

/** No waiting between tries; records what was masked, the pauses and the log. */
function deps(oidc: Pick<FakeOidc, 'url' | 'requestToken'> | null, over: Partial<IdTokenDeps> = {}): Recorded {
  const secrets: string[] = [];
  const slept: number[] = [];
  const said: string[] = [];
  return {
    env: oidc ? { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken } : {},
    setSecret: (s) => secrets.push(s),
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    info: (m) => said.push(m),
    timeoutMs: 2_000,
    secrets,
    slept,
    said,
    ...over,
  };
}

async function idTokenFailure(promise: Promise<unknown>): Promise<IdTokenError> {
  const err = await promise.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IdTokenError);
  return err as IdTokenError;
}

describe('requestIdToken', () => {
  it('asks for the audience with the bearer token, masks both tokens and returns the JWT', async () => {
    const oidc = await oidcFake();
    const d = deps(oidc);

    const token = await requestIdToken('sts.amazonaws.com', d);

    expect(oidc.issuedTokens).toEqual([token]);
    expect(oidc.requests).toEqual([{ audience: 'sts.amazonaws.com', authorized: true }]);
    expect(d.secrets).toEqual([oidc.requestToken, token]);
    expect(d.slept).toEqual([]);
  });

  it('retries HTTP 500 with growing, jittered pauses, then returns the token', async () => {
    const oidc = await oidcFake({ faults: [500, 503] });
    const d = deps(oidc);

    const token = await requestIdToken('sts.amazonaws.com', d);

    expect(oidc.answers).toEqual([500, 503, 200]);
    expect(oidc.issuedTokens).toEqual([token]);
    expect(d.slept).toEqual([750, 1500]);
    expect(d.said[0]).toBe(
      "The runner's OIDC token request failed (the runner's token endpoint answered HTTP 500 (Fake OIDC endpoint failure (500))); try 2 of 5 in 750 ms.",
    );
    const random = deps(oidc, { random: () => 0 });
    oidc.faults.push(500);
    await requestIdToken('sts.amazonaws.com', random);
    expect(random.slept).toEqual([500]);
  });

  it('stops after five tries and says so, without the permission hint', async () => {
    const oidc = await oidcFake({ status: 500 });
    const d = deps(oidc);

    const err = await idTokenFailure(requestIdToken('sts.amazonaws.com', d));

    expect(oidc.answers).toEqual([500, 500, 500, 500, 500]);
    expect(d.slept).toEqual([750, 1500, 3000, 6000]);
    expect(err.message).toBe(
      "the runner's token endpoint answered HTTP 500 (Fake OIDC endpoint failure (500)) on the last of 5 tries",
    );
    expect(err.permissionMissing).toBe(false);
    expect(err.retryable).toBe(true);
  });

  it('ends a hung request at its time-out, and the whole in bounded time', async () => {
    const oidc = await oidcFake({ faults: ['hang', 'hang', 'hang'] });
    const started = Date.now();

    const err = await idTokenFailure(requestIdToken('sts.amazonaws.com', deps(oidc, { timeoutMs: 200, attempts: 3 })));

    expect(Date.now() - started).toBeLessThan(3 * 200 + 1_500);
    expect(oidc.answers).toEqual([0, 0, 0]);
    expect(err.message).toBe("the runner's token endpoint gave no answer in 200 ms on the last of 3 tries");
    expect(err.permissionMissing).toBe(false);
  });

  it('gets the token on the try after a hung request or a cut answer', async () => {
    const oidc = await oidcFake({ faults: ['hang', 'cut'] });
    const token = await requestIdToken('sts.amazonaws.com', deps(oidc, { timeoutMs: 200 }));
    expect(oidc.answers).toEqual([0, 200, 200]);
    expect(oidc.issuedTokens.at(-1)).toBe(token);
  });

  it('gives the permission hint flag for 401 and 403, at once', async () => {
    const oidc = await oidcFake({ faults: [403] });
    const forbidden = await idTokenFailure(requestIdToken('sts.amazonaws.com', deps(oidc)));
    expect(forbidden.permissionMissing).toBe(true);
    expect(forbidden.message).toBe("the runner's token endpoint answered HTTP 403 (Fake OIDC endpoint failure (403))");

    const wrong = await idTokenFailure(
      requestIdToken('sts.amazonaws.com', deps({ url: oidc.url, requestToken: 'not-the-request-token' })),
    );
    expect(wrong.permissionMissing).toBe(true);
    expect(oidc.answers).toEqual([403, 401]);
  });

  it('does not retry a 404', async () => {
    const oidc = await oidcFake({ faults: [404] });
    const err = await idTokenFailure(requestIdToken('sts.amazonaws.com', deps(oidc)));
    expect(oidc.answers).toEqual([404]);
    expect(err).toMatchObject({ permissionMissing: false, retryable: false });
  });

  it('names the missing request variables and asks nothing of the network', async () => {
    const oidc = await oidcFake();
    const none = await idTokenFailure(requestIdToken('sts.amazonaws.com', deps(null)));
    expect(none.message).toBe(
      'the runner gave this job no ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    );
    expect(none.permissionMissing).toBe(true);

    const d = deps(oidc);
    delete d.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    const half = await idTokenFailure(requestIdToken('sts.amazonaws.com', d));
    expect(half.message).toBe('the runner gave this job no ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    expect(oidc.requests).toEqual([]);
  });

  it('says an unreachable endpoint could not be reached, without its address or token', async () => {
    const oidc = await oidcFake();
    await oidc.close();
    const err = await idTokenFailure(requestIdToken('sts.amazonaws.com', deps(oidc, { attempts: 2 })));
    expect(err.message).toBe("the runner's token endpoint could not be reached (ECONNREFUSED) on the last of 2 tries");
    expect(err.message).not.toContain(oidc.requestToken);
  });

  it('goes through the proxy in HTTPS_PROXY/HTTP_PROXY, as the runner toolkit does', async () => {
    const oidc = await oidcFake();
    const proxy = await connectProxy();
    const port = new URL(oidc.url).port;
    const d = deps(oidc, {
      env: {
        // A name only the proxy can reach: the proxy tunnels every CONNECT to the fake.
        ACTIONS_ID_TOKEN_REQUEST_URL: `http://token.runner.invalid:${port}/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
        HTTP_PROXY: proxy.url,
      },
    });

    const token = await requestIdToken('sts.amazonaws.com', d);

    expect(oidc.issuedTokens).toEqual([token]);
    expect(proxy.tunnels).toEqual([`token.runner.invalid:${port}`]);
  });
});

describe('assumeRoleWithOidc', () => {
  const options: SignInOptions = {
    roleToAssume: 'arn:aws:iam::111111111111:role/iam-stale-keys',
    awsRegion: 'us-east-1',
    partition: 'aws',
    audience: 'sts.amazonaws.com',
    roleSessionName: 'iam-stale-keys',
    roleDurationSeconds: 900,
  };

  function signInDeps(
    d: Recorded,
    timeouts?: { connectionTimeoutMs: number; requestTimeoutMs: number; idleTimeoutMs: number },
  ) {
    return {
      getIdToken: (aud: string) => requestIdToken(aud, d),
      setSecret: d.setSecret,
      sleep: d.sleep,
      random: () => 0.5,
      info: d.info!,
      ...(timeouts && { timeouts }),
    };
  }

  async function failure(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
      () => expect.fail('expected a failure'),
      (e: unknown) => e as Error,
    );
  }

  it('signs in after the token endpoint failed once', async () => {
    const oidc = await oidcFake({ faults: [500] });
    const aws = await awsFake({ expectedAudience: 'sts.amazonaws.com' });
    const d = deps(oidc);

    const credentials = await assumeRoleWithOidc(options, signInDeps(d));

    expect(oidc.answers).toEqual([500, 200]);
    expect(credentials.accessKeyId).toBe(aws.issuedCredentials[0]!.accessKeyId);
    expect(d.secrets).toEqual(expect.arrayContaining([credentials.secretAccessKey, credentials.sessionToken!]));
  });

  it('gives the id-token hint when the job has no token to ask with', async () => {
    const err = await failure(assumeRoleWithOidc(options, signInDeps(deps(null))));
    expect(err.message).toBe(
      'Could not get the job\'s OIDC token for audience "sts.amazonaws.com": the runner gave this job no ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN. ' +
        'Give the job "permissions: id-token: write" (workflows from forks get no token), or leave role-to-assume empty to use credentials set by an earlier step.',
    );
  });

  it('says the runner failed, and nothing of permissions, when the token endpoint keeps failing', async () => {
    const oidc = await oidcFake({ status: 502 });
    const err = await failure(assumeRoleWithOidc(options, signInDeps(deps(oidc))));
    expect(err.message).toBe(
      'Could not get the job\'s OIDC token for audience "sts.amazonaws.com": the runner\'s token endpoint answered HTTP 502 (Fake OIDC endpoint failure (502)) on the last of 5 tries. ' +
        "The runner's token service failed, not this job's settings: run the job again.",
    );
    expect(err.message).not.toContain('id-token');
  });

  it('gives up on a hung STS after five bounded tries', async () => {
    const oidc = await oidcFake();
    const aws = await awsFake({ hang: { AssumeRoleWithWebIdentity: 99 } });
    const started = Date.now();

    const err = await failure(
      assumeRoleWithOidc(
        options,
        signInDeps(deps(oidc), { connectionTimeoutMs: 500, requestTimeoutMs: 200, idleTimeoutMs: 200 }),
      ),
    );

    expect(Date.now() - started).toBeLessThan(5 * 200 + 2_000);
    expect(aws.count('AssumeRoleWithWebIdentity')).toBe(5);
    expect(err.message).toBe(
      'Could not assume role arn:aws:iam::111111111111:role/iam-stale-keys: a request has exceeded the configured 200 ms requestTimeout.',
    );
  });

  it('bounds GetCallerIdentity on a hung STS too', async () => {
    const aws = await awsFake({ hang: { GetCallerIdentity: 99 } });
    const credentials = { accessKeyId: 'AKIAENVIRONMENT00001', secretAccessKey: 'secret' };
    const started = Date.now();

    const err = await failure(
      getCallerIdentity('us-east-1', credentials, {
        connectionTimeoutMs: 500,
        requestTimeoutMs: 200,
        idleTimeoutMs: 200,
      }),
    );

    expect(Date.now() - started).toBeLessThan(3 * 200 + 3_000);
    expect(aws.count('GetCallerIdentity')).toBe(3);
    expect(err.message).toBe(
      'Could not tell which AWS account these credentials belong to: a request has exceeded the configured 200 ms requestTimeout.',
    );
  });
});

/** A loopback HTTP CONNECT proxy that tunnels every request to 127.0.0.1 at the requested port. */
async function connectProxy(): Promise<{ url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client, head) => {
    tunnels.push(req.url ?? '');
    const port = Number((req.url ?? '').split(':').pop());
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels };
}
