/**
 * Loopback fake of the GitHub Actions runner's OIDC token endpoint
 * (ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN), as used by
 * `@actions/core` getIDToken(): `GET {url}&audience=AUD` with
 * `Authorization: Bearer {requestToken}` answers `{"value":"<JWT>"}`.
 *
 * Faults can be scripted: answers served in order before the real behaviour
 * resumes (an HTTP status, a request never answered, a body cut short).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A scripted answer: an HTTP status with the runner's JSON error, a request never answered, or a 200 cut mid-JSON. */
export type ScriptedOidcFault = number | 'hang' | 'cut';

export interface FakeOidcRequest {
  audience?: string;
  authorized: boolean;
}

export interface FakeOidcOptions {
  subject?: string;
  /** HTTP status answered to authorized requests once the scripted faults are used up. Default 200. */
  status?: number;
  /** Served in order to authorized requests before the real behaviour, e.g. `[500, 500]` or `['hang']`. */
  faults?: ScriptedOidcFault[];
}

export interface FakeOidc {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL, e.g. http://127.0.0.1:P/token?api-version=2.0 */
  url: string;
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
  requests: FakeOidcRequest[];
  /** The HTTP status answered to each request, in order; 0 when never answered (a scripted hang). */
  answers: number[];
  /** Every JWT handed out (each one unique, so tests can grep logs for them). */
  issuedTokens: string[];
  /** HTTP status answered to authorized requests; mutable (e.g. set 500 to fail the next calls). */
  status: number;
  /** Live queue of scripted faults; tests may push more. */
  faults: ScriptedOidcFault[];
  close(): Promise<void>;
}

export const OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
export const DEFAULT_SUBJECT = 'repo:octo-org/octo-repo:ref:refs/heads/main';
/** The runner's default audience when none is requested: the repository owner's URL. */
export const DEFAULT_AUDIENCE = 'https://github.com/octo-org';

const b64url = (value: string | object): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeOidc(opts: FakeOidcOptions = {}): Promise<FakeOidc> {
  const requestToken = randomBytes(24).toString('hex');
  const requests: FakeOidcRequest[] = [];
  const answers: number[] = [];
  const issuedTokens: string[] = [];
  const state = { status: opts.status ?? 200 };
  const faults = [...(opts.faults ?? [])];
  const hanging = new Set<ServerResponse>();

  /** A GitHub-shaped ID token; the `jti` makes every token unique. Unsigned ('sig'). */
  function mintToken(audience: string): string {
    const iat = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5t: 'fake-x5t', kid: 'fake-kid' };
    const payload = {
      jti: randomUUID(),
      sub: opts.subject ?? DEFAULT_SUBJECT,
      aud: audience,
      ref: 'refs/heads/main',
      sha: 'd6a4a5b0c4f3e2a1b0c9d8e7f6a5b4c3d2e1f0a9',
      repository: 'octo-org/octo-repo',
      repository_owner: 'octo-org',
      run_id: '1234567890',
      run_attempt: '1',
      actor: 'octocat',
      event_name: 'schedule',
      workflow: 'iam-stale-keys',
      runner_environment: 'github-hosted',
      iss: OIDC_ISSUER,
      nbf: iat - 5,
      iat,
      exp: iat + 300,
    };
    return `${b64url(header)}.${b64url(payload)}.${b64url('sig')}`;
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: object | string): void => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method !== 'GET' || url.pathname !== '/token') return send(404, { message: 'Not Found' });

    const audience = url.searchParams.get('audience') ?? undefined;
    const authorized = req.headers.authorization === `Bearer ${requestToken}`;
    const record = (status: number) => {
      requests.push({ ...(audience !== undefined && { audience }), authorized });
      answers.push(status);
    };

    if (!authorized) {
      record(401);
      return send(401, { message: 'Unauthorized: invalid or missing bearer token' });
    }
    const fault = faults.shift();
    if (fault === 'hang') {
      record(0);
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault === 'cut') {
      record(200);
      // A whole HTTP answer whose JSON stops half way, as a proxy that dropped the rest leaves it.
      return send(200, JSON.stringify({ value: mintToken(audience ?? DEFAULT_AUDIENCE) }).slice(0, 40));
    }
    const status = fault ?? state.status;
    record(status);
    if (status !== 200) return send(status, { message: `Fake OIDC endpoint failure (${status})` });
    const value = mintToken(audience ?? DEFAULT_AUDIENCE);
    issuedTokens.push(value);
    return send(200, { value });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  /** Closing twice (a test and its clean-up) is fine. */
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}/token?api-version=2.0`,
    requestToken,
    requests,
    answers,
    issuedTokens,
    get status() {
      return state.status;
    },
    set status(next: number) {
      state.status = next;
    },
    faults,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        for (const res of hanging) res.socket?.destroy();
        hanging.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}
