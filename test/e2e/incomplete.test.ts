/**
 * End-to-end: scans that cannot see everything. Fail closed: the summary leads with ⚠️ and never
 * says ✅, each gap is named with the permission that closes it, and the job fails with one
 * message unless fail-on-incomplete is false. Runs the built dist/index.js under Node 24.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAccount, type FakeAwsOptions } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeOidc } from '../fakes/oidc.js';
import { fakeEndpoints } from '../helpers/action-process.js';
import { runAction } from '../helpers/run-action.js';

const ROLE = 'arn:aws:iam::111111111111:role/iam-stale-keys';
const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

async function fakes(options: Partial<FakeAwsOptions> = {}) {
  const aws = await startFakeAws({ account: demoAccount(), ...options });
  const oidc = await startFakeOidc();
  stop.push(
    () => aws.close(),
    () => oidc.close(),
  );
  return { aws, env: fakeEndpoints({ aws, oidc }) };
}

/** Only a 900-day-old root key is stale: what a scan blind to root keys would miss. */
function rootKeyOnly(): FakeAccount {
  const account = demoAccount();
  account.users = account.users.filter((u) => u.name === 'bob');
  account.rootKeys = [{ active: true, created: new Date(Date.now() - 900 * 86_400_000).toISOString() }];
  return account;
}

const inputs = { 'role-to-assume': ROLE, issue: 'false' };

describe('an incomplete scan', () => {
  it('never gives an all-clear when neither the report nor the account summary may be read', async () => {
    const { env } = await fakes({
      account: rootKeyOnly(),
      deny: ['GenerateCredentialReport', 'GetCredentialReport', 'GetAccountSummary'],
    });
    const run = await runAction({ inputs, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      "The scan of account demo-prod (111111111111) is incomplete, so stale keys may be missing: Root access keys were not checked (iam:GetAccountSummary was denied) (fix: grant iam:GetAccountSummary, or iam:GenerateCredentialReport and iam:GetCredentialReport (the report has the root user's keys))",
    ]);
    expect(run.summary).not.toContain('✅');
    expect(run.summary.split('\n')[2]).toMatch(/^⚠️ \*\*The scan is incomplete: stale keys may be missing\.\*\*/);
    expect(run.summary).toContain('### Not checked');
    expect(run.summary).toContain('**Fix:** Grant iam:GetAccountSummary');
    expect(run.outputs).toMatchObject({ 'scan-complete': 'false', 'stale-count': '0' });
    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8'));
    expect(report.coverage).toMatchObject({ complete: false, rootChecked: false });
  });

  it('warns instead of failing with fail-on-incomplete: false, and still leads with ⚠️', async () => {
    const { env } = await fakes({
      account: rootKeyOnly(),
      deny: ['GenerateCredentialReport', 'GetAccountSummary'],
    });
    const run = await runAction({ inputs: { ...inputs, 'fail-on-incomplete': 'false' }, env });
    expect(run.exitCode).toBe(0);
    expect(run.errors).toEqual([]);
    expect(run.warnings.some((w) => /is incomplete.*\(fail-on-incomplete is false\)\.$/.test(w))).toBe(true);
    expect(run.summary).toContain('⚠️ **The scan is incomplete');
    expect(run.summary).not.toContain('✅');
  });

  it('finds the root key once the report may be read: the gap was the only reason it was missed', async () => {
    const { env } = await fakes({ account: rootKeyOnly(), deny: ['GetAccountSummary'] });
    const run = await runAction({ inputs, env });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ 'scan-complete': 'true', 'stale-count': '1' });
    expect(run.summary).toContain('| root user | `root user key` | 900 |');
  });

  it('writes its summary and fails with one message when ListAccessKeys is denied on the API path', async () => {
    const { env, aws } = await fakes({ deny: ['ListAccessKeys'] });
    const run = await runAction({ inputs: { ...inputs, 'scan-method': 'api' }, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^1 access key in account demo-prod \(111111111111\) is stale: 1 of the root user\. The scan of account demo-prod \(111111111111\) is incomplete, so stale keys may be missing: The keys of 7 users \(alice, bob, carol, .*\) could not be listed \(iam:ListAccessKeys was denied\) \(fix: grant iam:ListAccessKeys\)$/,
    );
    expect(run.summary).toContain('⚠️ **The scan is incomplete');
    expect(run.summary).toContain('**Fix:** Grant iam:ListAccessKeys.');
    expect(aws.count('ListAccessKeys')).toBe(7);
  });

  it('treats a denied ListAccessKeys on the report path as a note: the report still judges the keys', async () => {
    const { env } = await fakes({ deny: ['ListAccessKeys'] });
    const run = await runAction({ inputs, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(run.outputs['scan-complete']).toBe('true');
    expect(run.summary).toContain('were not confirmed live (iam:ListAccessKeys was denied)');
  });

  it('writes its summary when ListUsers is denied', async () => {
    const { env } = await fakes({ deny: ['ListUsers'] });
    const run = await runAction({ inputs: { ...inputs, 'scan-method': 'api' }, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain(
      "The IAM users could not be listed (iam:ListUsers was denied), so no user's keys were checked (fix: grant iam:ListUsers)",
    );
    expect(run.summary).toContain('**Fix:** Grant iam:ListUsers.');
  });

  it('does not guess when last use is denied and max-unused-days needs it, on either path', async () => {
    for (const method of ['api', 'credential-report']) {
      const { env } = await fakes({ deny: ['GetAccessKeyLastUsed'] });
      const run = await runAction({ inputs: { ...inputs, 'scan-method': method, 'max-unused-days': '30' }, env });
      // The report has every key's last use: only the API path is left without it.
      if (method === 'api') {
        expect(run.outputs['scan-complete']).toBe('false');
        expect(run.summary).toContain('could not be checked for it. **Fix:** Grant iam:GetAccessKeyLastUsed.');
      } else {
        expect(run.outputs['scan-complete']).toBe('true');
      }
    }
  });

  it('names the step and role-duration-seconds when the session expires mid-scan, and writes a summary', async () => {
    const { env } = await fakes({ failures: { ListAccessKeys: Array(20).fill('ExpiredToken') } });
    const run = await runAction({ inputs, env });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^Listing the access keys of [\w-]+ failed: the AWS session expired before the scan finished \(.*\)\. Raise role-duration-seconds \(now 900 s;/,
    );
    expect(run.summary).toContain('❌ **The scan failed, so nothing was checked.**');
  });
});
