/**
 * End-to-end: signing in from the built dist/index.js when the runner's OIDC token endpoint fails,
 * against loopback fakes of the token endpoint, STS and IAM.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeOidc, type FakeOidc, type FakeOidcOptions } from '../fakes/oidc.js';
import { fakeEndpoints, visibleLog } from '../helpers/action-process.js';
import { runAction } from '../helpers/run-action.js';

const ROLE = 'arn:aws:iam::111111111111:role/iam-stale-keys';
const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

async function fakes(oidcOptions: FakeOidcOptions): Promise<{ aws: FakeAws; oidc: FakeOidc }> {
  const [aws, oidc] = await Promise.all([
    startFakeAws({ account: demoAccount(), report: { inProgressPolls: 0 }, expectedAudience: 'sts.amazonaws.com' }),
    startFakeOidc(oidcOptions),
  ]);
  stop.push(
    () => aws.close(),
    () => oidc.close(),
  );
  return { aws, oidc };
}

describe("the runner's OIDC token endpoint", () => {
  it('answers HTTP 500 once: the action asks again and the scan runs', async () => {
    const { aws, oidc } = await fakes({ faults: [500] });
    const run = await runAction({
      inputs: { 'role-to-assume': ROLE, issue: 'false' },
      env: fakeEndpoints({ aws, oidc }),
    });

    expect(oidc.answers).toEqual([500, 200]);
    expect(run.outputs['stale-count']).toBe('4');
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(visibleLog(run)).toMatch(
      /The runner's OIDC token request failed \(the runner's token endpoint answered HTTP 500 \(Fake OIDC endpoint failure \(500\)\)\); try 2 of 5 in \d+ ms\./,
    );
    // The token was masked before it could be printed.
    expect(run.stdout).toContain(`::add-mask::${oidc.issuedTokens[0]}`);
    expect(visibleLog(run)).not.toContain(oidc.issuedTokens[0]);
    expect(visibleLog(run)).not.toContain(oidc.requestToken);
  });

  it('keeps failing: the job fails once, saying the runner failed, without the permission hint', async () => {
    const { aws, oidc } = await fakes({ status: 503 });
    const run = await runAction({
      inputs: { 'role-to-assume': ROLE, issue: 'false' },
      env: fakeEndpoints({ aws, oidc }),
    });

    expect(run.exitCode).toBe(1);
    expect(oidc.answers).toEqual([503, 503, 503, 503, 503]);
    expect(run.errors).toEqual([
      'Could not get the job\'s OIDC token for audience "sts.amazonaws.com": the runner\'s token endpoint answered HTTP 503 (Fake OIDC endpoint failure (503)) on the last of 5 tries. ' +
        "The runner's token service failed, not this job's settings: run the job again.",
    ]);
    expect(aws.requests).toEqual([]);
  });

  it('refuses the request token (401): the permission hint, at once', async () => {
    const { aws, oidc } = await fakes({});
    const run = await runAction({
      inputs: { 'role-to-assume': ROLE, issue: 'false' },
      env: { ...fakeEndpoints({ aws, oidc }), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'expired-request-token' },
    });

    expect(run.exitCode).toBe(1);
    expect(oidc.answers).toEqual([401]);
    expect(run.errors[0]).toMatch(
      /^Could not get the job's OIDC token for audience "sts\.amazonaws\.com": the runner's token endpoint answered HTTP 401 \(Unauthorized: invalid or missing bearer token\)\. Give the job "permissions: id-token: write"/,
    );
    expect(visibleLog(run)).not.toContain('expired-request-token');
  });
});
