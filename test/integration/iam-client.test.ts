/** src/aws/iam.ts with the real SDK client against the loopback fake IAM. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIam, type IamApi } from '../../src/aws/iam.js';
import { credentialReportCsv, seedAccount, startFakeAws, type FakeAws } from '../fakes/aws.js';

let aws: FakeAws;
let iam: IamApi;
const saved = { ...process.env };

beforeAll(async () => {
  const { account } = seedAccount({ users: 2_500, now: new Date('2026-11-21T00:00:00Z'), seed: 5 });
  account.users[0]!.name = 'ci,deploy+bot'; // quoted in the CSV
  aws = await startFakeAws({ account, report: { inProgressPolls: 1 }, shortPages: true, pageSize: 400 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_IAM: aws.url,
    AWS_ACCESS_KEY_ID: 'AKIATESTINTEGRATION1',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  iam = createIam('aws', undefined);
});

afterAll(async () => {
  process.env = saved;
  await aws.close();
});

describe('createIam', () => {
  it('maps a missing report to the SDK error the inventory waits on', async () => {
    await expect(iam.getCredentialReport()).rejects.toMatchObject({ name: 'CredentialReportNotPresentException' });
  });

  it('returns the report byte for byte, with its generation time', async () => {
    expect(await iam.generateCredentialReport()).toBe('STARTED');
    expect(await iam.generateCredentialReport()).toBe('COMPLETE');
    const report = await iam.getCredentialReport();
    expect(report.csv).toBe(credentialReportCsv(aws.account));
    expect(report.csv).toContain('"ci,deploy+bot"');
    expect(report.generatedAt).toBeInstanceOf(Date);
  });

  it('reads every page of users and keys', async () => {
    const names = await iam.listUserNames();
    expect(names).toHaveLength(2_500);
    expect(new Set(names).size).toBe(2_500);
    const user = aws.account.users.find((u) => u.keys.length === 2)!;
    expect((await iam.listAccessKeys(user.name))?.map((k) => k.accessKeyId)).toEqual(user.keys.map((k) => k.id));
    expect(await iam.listAccessKeys('nobody-by-this-name')).toBeNull();
  });
});
