/**
 * A recorded GetCredentialReport sequence (cloud-custodian's `…report_in_progress`: the report
 * being generated, a 404 `ReportInProgress`, then the report; test/fixtures/realdata) replayed
 * through the real SDK client against the loopback fake, into the inventory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIam } from '../../src/aws/iam.js';
import { parseCredentialReport } from '../../src/account/credential-report.js';
import { flaggedUsers, judge, type Policy } from '../../src/account/judge.js';
import { takeInventory } from '../../src/account/inventory.js';
import type { AccessKey, Inventory } from '../../src/model.js';
import { startFakeAws, type FakeAws, type FakeUser } from '../fakes/aws.js';
import {
  placebo,
  recordedReport,
  SHARED_REALDATA,
  type PlaceboAnswer,
  type RecordedReport,
} from '../helpers/realdata.js';

const DIR = 'cloud-custodian/test_iam_user_unused_keys_report_in_progress';
/** Read in place from shared/ (see test/helpers/realdata.ts), and only when it is there. */
function loadRecording() {
  const recorded = recordedReport(`${DIR}/iam.GetCredentialReport_2.json`);
  return {
    started: placebo(`${DIR}/iam.GenerateCredentialReport_1.json`),
    inProgress: placebo(`${DIR}/iam.GetCredentialReport_1.json`),
    recorded,
    parsed: parseCredentialReport(recorded.csv),
  };
}

/** When the sequence was recorded (its HTTP Date), though the report says it was generated in 2116. */
const now = new Date('2016-11-25T14:30:42Z');
const policy: Policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] };

/** The live side of the same account, as the report shows it (IDs are ours: the report has none). */
function liveUsers(keys: readonly AccessKey[]): FakeUser[] {
  const users = new Map<string, FakeUser>();
  for (const key of keys) {
    if (key.root) continue;
    const user = users.get(key.user) ?? { name: key.user, keys: [] };
    users.set(key.user, user);
    user.keys.push({
      id: `AKIAREALDATA${String(users.size).padStart(4, '0')}${user.keys.length}XYZ`,
      status: key.status,
      created: key.createDate!.toISOString(),
      ...(key.lastUsedDate && {
        lastUsed: {
          date: key.lastUsedDate.toISOString(),
          service: key.lastUsedService ?? 'N/A',
          region: key.lastUsedRegion ?? 'N/A',
        },
      }),
    });
  }
  return [...users.values()];
}

describe.skipIf(!SHARED_REALDATA)('the recorded ReportInProgress → report sequence through the SDK client', () => {
  let aws: FakeAws;
  let inventory: Inventory;
  let started: PlaceboAnswer;
  let inProgress: PlaceboAnswer;
  let recorded: RecordedReport;
  let parsed: ReturnType<typeof parseCredentialReport>;
  const slept: number[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    ({ started, inProgress, recorded, parsed } = loadRecording());
    aws = await startFakeAws({
      account: { accountId: '619193117841', users: liveUsers(parsed.keys) },
      report: { csv: recorded.csv, generatedAt: recorded.generatedAt.toISOString(), inProgressPolls: 1 },
      failures: { GetCredentialReport: [inProgress.data.Error!.Code] },
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_IAM: aws.url,
      AWS_ACCESS_KEY_ID: 'AKIATESTINTEGRATION1',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    inventory = await takeInventory('credential-report', {
      iam: createIam('aws', undefined),
      sleep: async (ms) => void slept.push(ms),
      usersToConfirm: (keys) => flaggedUsers(judge(keys, policy, now)),
      lastUseMatters: false,
      info: () => {},
      warning: () => {},
    });
  });

  afterAll(async () => {
    process.env = saved;
    await aws.close();
  });

  it('is what was recorded: STARTED, then a 404 ReportInProgress, then the report', () => {
    expect([started.data.State, inProgress.status_code, inProgress.data.Error?.Code]).toEqual([
      'STARTED',
      404,
      'ReportInProgress',
    ]);
  });

  it('waits through the 404 and reads the report once', () => {
    const report = aws.requests.filter((r) => r.action.endsWith('CredentialReport'));
    expect(report.map((r) => [r.action, r.status, r.errorCode])).toEqual([
      ['GenerateCredentialReport', 200, undefined], // STARTED
      ['GenerateCredentialReport', 200, undefined], // COMPLETE
      ['GetCredentialReport', 404, 'ReportInProgress'],
      ['GenerateCredentialReport', 200, undefined], // COMPLETE
      ['GetCredentialReport', 200, undefined],
    ]);
    expect(slept).toEqual([500, 1000]);
    expect(inventory.reportGeneratedAt).toEqual(new Date('2116-11-25T14:30:42Z'));
  });

  it('yields the keys the parse gives, the flagged users confirmed live with their IDs', () => {
    expect(inventory.userCount).toBe(7);
    expect(aws.requests.filter((r) => r.action === 'ListAccessKeys').map((r) => r.params.UserName)).toEqual([
      'charmworld',
      'Hazmat',
      'kapilt',
      'tyre',
      'kaleb',
    ]);
    expect(inventory.confirmedUsers).toBe(5);

    const byKey = (a: AccessKey, b: AccessKey) =>
      a.user.localeCompare(b.user, 'en') || a.createDate!.getTime() - b.createDate!.getTime();
    const withoutIds = inventory.keys.map((k) => ({ ...k, accessKeyId: null })).sort(byKey);
    expect(withoutIds).toEqual([...parsed.keys].sort(byKey));
    expect(inventory.keys.filter((k) => k.accessKeyId !== null).map((k) => k.user)).toEqual([
      'charmworld',
      'Hazmat',
      'kapilt',
      'tyre',
      'kaleb',
    ]);
  });
});
