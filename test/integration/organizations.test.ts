/** src/aws/organizations.ts with the real Organizations client against the loopback fake. */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AwsCredentials } from '../../src/aws/credentials.js';
import {
  listOrganizationAccounts,
  ORGANIZATIONS_REGION,
  OrganizationsError,
  type ListOrganizationAccountsOptions,
} from '../../src/aws/organizations.js';
import type { Partition } from '../../src/model.js';
import {
  startFakeAws,
  type FakeAccount,
  type FakeAws,
  type FakeAwsOptions,
  type FakeOrganization,
} from '../fakes/aws.js';

const HUB = '111111111111';
const CREDENTIALS: AwsCredentials = { accessKeyId: 'AKIAHUBSTATIC0000001', secretAccessKey: 'secret' };
const fast = { connectionTimeoutMs: 500, requestTimeoutMs: 1_000, idleTimeoutMs: 1_000 };

const OU = { a: 'ou-ab12-aaaaaaaa', b: 'ou-ab12-bbbbbbbb', c: 'ou-ab12-cccccccc' } as const;

/**
 * Twelve accounts in three nested OUs:
 *
 *     root r-ab12: the hub, 2…01, 2…02
 *       Workloads (a): 2…03, 2…04, 2…05 (SUSPENDED)
 *         Prod (b): 2…06, 2…07, 2…08 (PENDING_CLOSURE)
 *           EU (c): 2…09, 2…10, 2…11 (CLOSED)
 */
function twelve(): { accounts: FakeAccount[]; organization: FakeOrganization } {
  const parents = ['r-ab12', 'r-ab12', OU.a, OU.a, OU.a, OU.b, OU.b, OU.b, OU.c, OU.c, OU.c];
  const states = { 5: 'SUSPENDED', 8: 'PENDING_CLOSURE', 11: 'CLOSED' } as const;
  return {
    accounts: [
      { accountId: HUB, name: 'Management', users: [] },
      ...parents.map((parent, i) => ({
        accountId: `2222222222${String(i + 1).padStart(2, '0')}`,
        name: `Workload ${i + 1}`,
        users: [],
        parent,
        ...(i + 1 in states && { state: states[(i + 1) as keyof typeof states] }),
      })),
    ],
    organization: {
      units: [
        {
          id: OU.a,
          name: 'Workloads',
          units: [{ id: OU.b, name: 'Prod', units: [{ id: OU.c, name: 'EU' }] }],
        },
      ],
    },
  };
}

const ACTIVE = ['01', '02', '03', '04', '06', '07', '09', '10'].map((n) => `2222222222${n}`);

let fake: FakeAws | undefined;
beforeEach(() => {
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake?.close();
  fake = undefined;
});

async function serve(options: Partial<FakeAwsOptions> = {}, organization: Partial<FakeOrganization> = {}) {
  const org = twelve();
  fake = await startFakeAws({
    accounts: org.accounts,
    organization: { ...org.organization, ...organization },
    ...options,
  });
  vi.stubEnv('AWS_ENDPOINT_URL_ORGANIZATIONS', fake.url);
  vi.stubEnv('AWS_ENDPOINT_URL_STS', fake.url);
  return fake;
}

const list = (options: ListOrganizationAccountsOptions = {}, partition: Partition = 'aws') =>
  listOrganizationAccounts(CREDENTIALS, partition, { timeouts: fast, ...options });

async function failure(promise: Promise<unknown>): Promise<OrganizationsError> {
  const err = await promise.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OrganizationsError);
  return err as OrganizationsError;
}

describe('listOrganizationAccounts', () => {
  it('lists every ACTIVE account across short pages and empty pages that carry a NextToken', async () => {
    const aws = await serve({}, { pageSize: 3, shortPages: true, emptyPages: [0, 2] });

    const accounts = await list();

    expect(accounts.map((a) => a.id)).toEqual([HUB, ...ACTIVE]);
    expect(accounts[0]).toEqual({ id: HUB, name: 'Management' });
    expect(accounts[1]).toEqual({ id: '222222222201', name: 'Workload 1' });
    const pages = aws.requests.filter((r) => r.action === 'ListAccounts');
    // 12 accounts in pages of 2 after two empty ones: 8 requests, each after the first with the token it was given.
    expect(pages).toHaveLength(8);
    expect(pages.every((r) => r.status === 200 && r.params.MaxResults === '20')).toBe(true);
    expect(pages.slice(1).every((r) => r.params.NextToken)).toBe(true);
  });

  it('reads only State once AWS stops sending Status, and Status where State is missing', async () => {
    await serve({}, { accountFields: 'state' });
    expect((await list()).map((a) => a.id)).toEqual([HUB, ...ACTIVE]);
    await fake!.close();
    await serve({}, { accountFields: 'status' });
    // Status has no CLOSED: AWS reports a closed account as SUSPENDED there.
    expect((await list()).map((a) => a.id)).toEqual([HUB, ...ACTIVE]);
  });

  it('lists only the accounts under the given OUs, nested OUs included, each once', async () => {
    const aws = await serve({}, { pageSize: 2, shortPages: true, emptyPages: [0] });

    expect((await list({ organizationalUnits: [OU.a] })).map((a) => a.id)).toEqual(ACTIVE.slice(2));
    expect((await list({ organizationalUnits: [OU.c] })).map((a) => a.id)).toEqual(['222222222209', '222222222210']);
    expect((await list({ organizationalUnits: [OU.b, OU.a] })).map((a) => a.id)).toEqual([
      '222222222206',
      '222222222207',
      '222222222209',
      '222222222210',
      '222222222203',
      '222222222204',
    ]);
    expect((await list({ organizationalUnits: ['r-ab12'] })).map((a) => a.id).sort()).toEqual([HUB, ...ACTIVE].sort());
    expect(aws.count('ListAccounts')).toBe(0);
    expect(
      aws.requests
        .filter((r) => r.action === 'ListChildren')
        .every((r) => r.params.ChildType === 'ORGANIZATIONAL_UNIT'),
    ).toBe(true);
  });

  it('signs for the partition’s Organizations region', async () => {
    const aws = await serve();
    for (const partition of ['aws', 'aws-cn', 'aws-us-gov'] as const) {
      aws.resetRequests();
      await list({}, partition);
      expect(aws.requests[0]).toMatchObject({
        service: 'organizations',
        signingService: 'organizations',
        signingRegion: ORGANIZATIONS_REGION[partition],
      });
    }
    expect(ORGANIZATIONS_REGION).toEqual({
      aws: 'us-east-1',
      'aws-cn': 'cn-northwest-1',
      'aws-us-gov': 'us-gov-west-1',
    });
  });

  it('agrees with the SDK’s endpoint rules: one endpoint per partition, signed for that region', async () => {
    const endpoint = (region: string) => {
      const client = new OrganizationsClient({ region });
      const resolved = client.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false });
      client.destroy();
      return [resolved.url.href, (resolved.properties?.authSchemes as { signingRegion: string }[])[0]?.signingRegion];
    };
    expect(endpoint('eu-west-1')).toEqual(['https://organizations.us-east-1.amazonaws.com/', 'us-east-1']);
    expect(endpoint('cn-north-1')).toEqual([
      'https://organizations.cn-northwest-1.amazonaws.com.cn/',
      'cn-northwest-1',
    ]);
    expect(endpoint('us-gov-east-1')).toEqual(['https://organizations.us-gov-west-1.amazonaws.com/', 'us-gov-west-1']);
    for (const [partition, region] of Object.entries(ORGANIZATIONS_REGION)) {
      expect(endpoint(region)[1], partition).toBe(region);
    }
  });

  it('takes a credential provider, and rides out throttling', async () => {
    const aws = await serve({ failures: { ListAccounts: ['TooManyRequestsException', 'Throttling'] } });
    const provider = vi.fn(async () => CREDENTIALS);
    const accounts = await listOrganizationAccounts(provider, 'aws', { timeouts: fast });
    expect(accounts).toHaveLength(9);
    expect(provider).toHaveBeenCalled();
    expect(aws.requests.map((r) => r.status)).toEqual([400, 400, 200]);
  });

  it('says which permissions the hub role needs, and where it must live, when ListAccounts is denied', async () => {
    await serve({ deny: ['ListAccounts'] });
    const err = await failure(list());
    expect(err.message).toBe(
      "Listing the organisation's accounts failed: access denied (AccessDenied: User: arn:aws:iam::111111111111:user/fake-caller is not authorized to perform: organizations:ListAccounts on resource: * because no identity-based policy allows the organizations:ListAccounts action). " +
        'The hub role needs organizations:ListAccounts, organizations:ListChildren and organizations:ListAccountsForParent, ' +
        "and must be in the organisation's management account or in a delegated administrator account: from any other member account Organizations refuses whatever the policy allows.",
    );
    expect(err.cause).toMatchObject({ name: 'AccessDeniedException' });
  });

  it('gives the same hint to a member account that is no delegated administrator, and to a denied OU walk', async () => {
    const aws = await serve({ deny: ['ListChildren'] });
    const err = await failure(list({ organizationalUnits: [OU.a] }));
    expect(err.message).toMatch(
      /^Listing the accounts under ou-ab12-aaaaaaaa failed: access denied \(AccessDenied: .*organizations:ListChildren.*\)\. The hub role needs/,
    );

    aws.deny.clear();
    const member = { accessKeyId: 'AKIAMEMBER0000000001', secretAccessKey: 'x' };
    aws.organization = { ...twelve().organization, managementAccountId: '222222222201' };
    const refused = await failure(listOrganizationAccounts(member, 'aws', { timeouts: fast }));
    expect(refused.message).toMatch(
      /^Listing the organisation's accounts failed: access denied \(AccessDenied: You don't have permissions to access this resource\)\. The hub role needs organizations:ListAccounts/,
    );
  });

  it('says when the account is in no organisation', async () => {
    await serve({ organization: false });
    const err = await failure(list());
    expect(err.message).toBe(
      "Listing the organisation's accounts failed: the hub's account is not in an AWS organisation (AWSOrganizationsNotInUse: Your account is not a member of an organization). " +
        "Sign in to the organisation's management account or a delegated administrator account, or name the accounts to scan instead.",
    );
  });

  it('names an OU that does not exist, and refuses a malformed ID before asking AWS', async () => {
    const aws = await serve();
    const missing = await failure(list({ organizationalUnits: [OU.a, 'ou-ab12-zzzzzzzz'] }));
    expect(missing.message).toBe(
      "Listing the accounts under ou-ab12-zzzzzzzz failed: ou-ab12-zzzzzzzz is not an OU or root of this organisation (ParentNotFound: We can't find a root or OU with the ParentId that you specified). " +
        'Check the OU IDs against the AWS Organizations console.',
    );
    aws.resetRequests();
    const malformed = await failure(list({ organizationalUnits: ['Workloads', 'ou-ab12-aaaaaaaa'] }));
    expect(malformed.message).toBe(
      'Not an organizational unit ID: "Workloads". OU IDs look like ou-ab12-11111111 (a root: r-ab12); the AWS Organizations console shows them.',
    );
    expect(aws.requests).toEqual([]);
  });

  it('describes other failures by step, after the SDK’s tries', async () => {
    await serve({ failures: { ListAccounts: Array(3).fill('ServiceException') } });
    const err = await failure(list({ maxAttempts: 3 }));
    expect(err.message).toMatch(
      /^Listing the organisation's accounts failed: AWS failed after 3 tries \(Service: AWS Organizations can't complete your request because of an internal service error\. Try again later\)\. Run again later\.$/,
    );
  });
});
