/**
 * Credential reports recorded from real AWS accounts by other open-source projects
 * (test/fixtures/realdata, origins in its SOURCES.md), parsed and judged. Every number here was
 * counted by hand from the CSV; ages are whole UTC calendar days. Where the origin project's own
 * tests expect something of the same data, their rule is restated in a line and our verdict
 * compared with it.
 */
import { describe, expect, it } from 'vitest';
import { isIncomplete, scanGaps } from '../../src/account/coverage.js';
import { parseCredentialReport } from '../../src/account/credential-report.js';
import { judge, type Policy } from '../../src/account/judge.js';
import { ROOT_USER, type AccessKey, type Judgement } from '../../src/model.js';
import {
  placebo,
  realdataText,
  recordedReport,
  SHARED_REALDATA,
  withoutColumns,
  type RecordedReport,
} from '../helpers/realdata.js';
import { scanResult } from '../helpers/scan-fixtures.js';

const CC = 'cloud-custodian';
/** Read when a test asks: cloud-custodian's come from shared/ (see test/helpers/realdata.ts). */
const report = {
  get account() {
    return recordedReport(`${CC}/test_account_credential_report/iam.GetCredentialReport_1.json`);
  },
  get consoleOld() {
    return recordedReport(`${CC}/test_iam_user_console_old/iam.GetCredentialReport_1.json`);
  },
  get unusedKeys() {
    return recordedReport(`${CC}/test_iam_user_unused_keys/iam.GetCredentialReport_2.json`);
  },
  get inProgress() {
    return recordedReport(`${CC}/test_iam_user_unused_keys_report_in_progress/iam.GetCredentialReport_2.json`);
  },
  get multiDelete() {
    return recordedReport(`${CC}/test_iam_user_credential_multi_delete/iam.GetCredentialReport_1.json`);
  },
  get noop() {
    return recordedReport(`${CC}/test_iam_user_credential_multi_delete_noop/iam.GetCredentialReport_1.json`);
  },
  get reverse() {
    return recordedReport(`${CC}/test_iam_user_credential_reverse_filter_delete/iam.GetCredentialReport_1.json`);
  },
  get deleteOptions() {
    return recordedReport(`${CC}/test_iam_user_delete_options/iam.GetCredentialReport_1.json`);
  },
  get cloudmapper() {
    return recordedReport('cloudmapper/iam-get-credential-report.json');
  },
} satisfies Record<string, RecordedReport>;
const csv = {
  securityHq: realdataText('security-hq/testReport.csv'),
  securityHqNoPassword: realdataText('security-hq/testReportNoPasswordLastUsed.csv'),
  oil: realdataText('oil/credential_report_content.csv'),
};

/** Users named in a recorded ListUsers answer: the users the origin's test looked at. */
const listedUsers = (path: string): string[] => placebo(path).data.Users!.map((u) => u.UserName);

const t = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d && d.toISOString().replace('.000Z', 'Z');
/** A key as one line: user, status, created, last used, service, region. */
const row = (k: AccessKey) => [
  k.user,
  k.status,
  iso(k.createDate),
  iso(k.lastUsedDate),
  k.lastUsedService,
  k.lastUsedRegion,
];
const stale = (j: Judgement) => j.stale.map((f) => [f.user, f.ageDays, f.idleDays, f.reasons]);

const policy = (over: Partial<Policy> = {}): Policy => ({
  maxAgeDays: 90,
  maxUnusedDays: 0,
  warnDays: 14,
  includeInactive: false,
  excludeUsers: [],
  ...over,
});
/** Long after every recording: a fixed "today". */
const today = t('2026-11-22T00:00:00Z');

describe('every recorded report', () => {
  it.each([
    // fixture, users (root not counted), keys, the root's keys, CSV, read from shared/
    ['account', 19, 16, [], () => report.account.csv, true],
    ['consoleOld', 19, 16, [], () => report.consoleOld.csv, true],
    ['unusedKeys', 7, 9, ['Active', 'Inactive'], () => report.unusedKeys.csv, true],
    ['inProgress', 7, 9, ['Active', 'Inactive'], () => report.inProgress.csv, true],
    ['multiDelete', 1, 2, [], () => report.multiDelete.csv, true],
    ['noop', 1, 2, [], () => report.noop.csv, true],
    ['reverse', 1, 2, [], () => report.reverse.csv, true],
    ['deleteOptions', 1, 1, [], () => report.deleteOptions.csv, true],
    ['cloudmapper', 0, 1, ['Active'], () => report.cloudmapper.csv, false],
    ['securityHq', 4, 4, [], () => csv.securityHq, false],
    ['securityHqNoPassword', 1, 1, [], () => csv.securityHqNoPassword, false],
    ['oil', 3, 3, [], () => csv.oil, false],
  ] as const)('%s parses to %i users and %i keys', (_name, users, keys, rootKeys, text, shared) => {
    if (shared && !SHARED_REALDATA) return;
    const parsed = parseCredentialReport(text());
    expect(parsed.userCount).toBe(users);
    expect(parsed.keys).toHaveLength(keys);
    expect(parsed.keys.filter((k) => k.root).map((k) => k.status)).toEqual(rootKeys);
    expect(parsed.keys.every((k) => k.root === (k.user === ROOT_USER) && k.accessKeyId === null)).toBe(true);
  });

  it.skipIf(!SHARED_REALDATA)('holds the same CSV in the recordings said to share it, made at different times', () => {
    expect(report.consoleOld.csv).toBe(report.account.csv);
    expect(report.inProgress.csv).toBe(report.unusedKeys.csv);
    expect(report.unusedKeys.generatedAt).toEqual(t('2016-11-25T14:30:42Z'));
    expect(report.inProgress.generatedAt).toEqual(t('2116-11-25T14:30:42Z'));
  });

  it.skipIf(!SHARED_REALDATA)('includes reports without a final newline, read to their last row', () => {
    const unterminated = [report.noop, report.deleteOptions, report.cloudmapper].map((r) => r.csv);
    for (const text of [...unterminated, ...Object.values(csv)]) expect(text.endsWith('\n')).toBe(false);
    expect(parseCredentialReport(csv.oil).keys.at(-1)?.user).toBe('final.user');
    expect(parseCredentialReport(report.noop.csv).keys.at(-1)).toMatchObject({
      user: 'test1',
      createDate: t('2099-02-03T09:50:21Z'),
    });
  });
});

describe.skipIf(!SHARED_REALDATA)('cloud-custodian test_account_credential_report', () => {
  const parsed = SHARED_REALDATA ? parseCredentialReport(report.account.csv) : { userCount: 0, keys: [] };
  const now = t('2016-11-25T20:27:00Z'); // the clock custodian's tests of this report freeze

  it('reads every key, with N/A as never used and an N/A region beside a real last use', () => {
    expect(parsed.keys.map(row)).toEqual([
      ['andrew', 'Active', '2016-10-11T15:27:35Z', null, null, null],
      ['andrew', 'Active', '2016-08-30T19:05:50Z', '2016-10-20T20:27:00Z', 'ec2', 'us-east-1'],
      ['c7n-iam-test', 'Active', '2016-11-15T21:04:17Z', null, null, null],
      ['calvin', 'Active', '2016-11-15T18:46:51Z', '2016-11-15T21:36:00Z', 's3', null],
      ['christopher', 'Active', '2016-09-14T12:57:54Z', '2016-11-21T18:44:00Z', 'redshift', 'us-east-1'],
      ['david', 'Active', '2016-10-15T18:08:31Z', '2016-11-07T23:08:00Z', 'dynamodb', 'us-west-2'],
      ['Jennifer', 'Active', '2016-11-21T20:19:08Z', '2016-11-21T22:28:00Z', 'cloudwatch', 'us-east-1'],
      ['joshua', 'Active', '2016-09-21T17:04:32Z', '2016-11-21T18:55:00Z', 'autoscaling', 'us-east-1'],
      ['kapil', 'Active', '2016-06-24T20:30:37Z', '2016-11-25T10:37:00Z', 'iam', 'us-east-1'],
      ['kit', 'Active', '2016-09-07T14:37:53Z', '2016-11-22T17:07:00Z', 'sts', 'us-east-1'],
      ['kit', 'Active', '2016-09-30T12:43:53Z', '2016-11-23T22:21:00Z', 'ec2', 'us-west-2'],
      ['mandeep', 'Active', '2016-10-12T10:43:52Z', '2016-11-18T18:31:00Z', 'sts', 'us-east-1'],
      ['rob', 'Active', '2016-10-07T14:22:27Z', '2016-11-23T21:36:00Z', 's3', null],
      ['ryanwolfe', 'Active', '2016-09-28T18:31:34Z', null, null, null],
      ['scot', 'Active', '2016-10-07T16:41:38Z', '2016-11-18T02:16:00Z', 's3', null],
      ['steven', 'Active', '2016-09-08T19:13:45Z', '2016-09-20T21:18:00Z', 's3', null],
    ]);
    expect(parsed.keys.every((k) => k.lastUseKnown)).toBe(true);
  });

  it('counts christopher, whose row is there twice, once, with the one key of his second row', () => {
    expect(report.account.csv.match(/^christopher,/gm)).toHaveLength(2);
    expect(parsed.userCount).toBe(19);
    expect(parsed.keys.filter((k) => k.user === 'christopher')).toHaveLength(1);
  });

  it('finds no root key: the root row has none, and its not_supported and no_information fields are no keys', () => {
    expect(parsed.keys.some((k) => k.root)).toBe(false);
    // prowler's root-key check passes a root row whose two key slots are not active: so do we.
    expect(judge(parsed.keys, policy(), now).stale.some((f) => f.root)).toBe(false);
  });

  it('judges at 90 days old or 30 unused: one old key, four idle ones, one due soon', () => {
    const j = judge(parsed.keys, policy({ maxUnusedDays: 30 }), now);
    expect(stale(j)).toEqual([
      ['kapil', 154, 0, ['age']],
      ['andrew', 87, 36, ['unused']],
      ['steven', 78, 66, ['unused']],
      ['ryanwolfe', 58, 58, ['unused']],
      ['andrew', 45, 45, ['unused']],
    ]);
    expect(j.dueSoon.map((k) => [k.user, k.ageDays, k.daysLeft])).toEqual([['kit', 79, 11]]);
    expect(j.undetermined).toEqual([]);
    expect(j.scannedKeys).toBe(16);
  });

  it("agrees with custodian's test_access_key_last_service: the one key last used on IAM is kapil's", () => {
    // Custodian: users with a key whose last-used service is "iam" → kapil.
    expect(parsed.keys.filter((k) => k.lastUsedService === 'iam').map((k) => k.user)).toEqual(['kapil']);
  });

  it("agrees with custodian's test_old_console_users on who has no key: anthony, chrissy, matt", () => {
    // Custodian: of the users its ListUsers answer gave, those with no access key (and an old
    // console login, which is not ours to judge) → anthony, chrissy, matt.
    const listed = listedUsers(`${CC}/test_iam_user_console_old/iam.ListUsers_1.json`);
    expect(listed).toEqual(['andrew', 'anthony', 'chrissy', 'kapil', 'matt']);
    const withKeys = new Set(parsed.keys.map((k) => k.user));
    expect(listed.filter((u) => !withKeys.has(u))).toEqual(['anthony', 'chrissy', 'matt']);
  });
});

describe.skipIf(!SHARED_REALDATA)(
  'cloud-custodian test_iam_user_unused_keys (an active and an inactive root key)',
  () => {
    const parsed = parseCredentialReport(report.unusedKeys.csv);
    const now = report.unusedKeys.generatedAt;

    it("reads every key, the root user's inactive one with its date", () => {
      expect(parsed.keys.map(row)).toEqual([
        [ROOT_USER, 'Active', '2011-08-19T05:12:23Z', '2015-07-04T15:09:00Z', 's3', 'us-east-1'],
        [ROOT_USER, 'Inactive', '2007-10-13T16:49:50Z', null, null, null],
        ['charmworld', 'Active', '2012-01-29T21:54:13Z', null, null, null],
        ['Hazmat', 'Active', '2013-03-01T08:34:42Z', null, null, null],
        ['kaleb', 'Active', '2016-07-05T23:57:09Z', null, null, null],
        ['kapilt', 'Active', '2015-10-04T02:59:23Z', null, null, null],
        ['rome', 'Active', '2016-11-25T09:37:35Z', '2016-11-25T09:38:00Z', 'iam', 'us-east-1'],
        ['syracuse', 'Active', '2016-11-25T14:21:05Z', '2016-11-25T14:22:00Z', 's3', null],
        ['tyre', 'Active', '2016-07-01T13:23:53Z', '2016-11-25T09:33:00Z', 'iam', 'us-east-1'],
      ]);
    });

    it('flags both root keys, the inactive one too: root user keys should not exist at all', () => {
      const j = judge(parsed.keys, policy(), now);
      expect(stale(j)).toEqual([
        [ROOT_USER, 3331, 3331, ['root-key']],
        [ROOT_USER, 1925, 510, ['root-key', 'age']],
        ['charmworld', 1762, 1762, ['age']],
        ['Hazmat', 1365, 1365, ['age']],
        ['kapilt', 418, 418, ['age']],
        ['tyre', 147, 0, ['age']],
        ['kaleb', 143, 143, ['age']],
      ]);
      expect(j.stale.filter((f) => f.root).map((f) => f.status)).toEqual(['Inactive', 'Active']);
      expect(j.dueSoon).toEqual([]);
      // prowler's root-key check fails this row too, for its one active key; it would pass a root
      // user whose keys were all inactive, where we still flag them.
    });

    it("agrees with custodian's test_credential_report_generate: Hazmat's and kapilt's keys were never used", () => {
      // Custodian: of the users its ListUsers answer gave, those with a key whose last use is
      // empty → Hazmat, kapilt.
      const listed = listedUsers(`${CC}/test_iam_user_unused_keys/iam.ListUsers_1.json`);
      const neverUsed = new Set(parsed.keys.filter((k) => k.lastUseKnown && !k.lastUsedDate).map((k) => k.user));
      expect(listed.filter((u) => neverUsed.has(u))).toEqual(['Hazmat', 'kapilt']);
    });
  },
);

describe.skipIf(!SHARED_REALDATA)(
  'cloud-custodian test_iam_user_credential_reverse_filter_delete (TRUE/FALSE, a key from 2099)',
  () => {
    const parsed = parseCredentialReport(report.reverse.csv);

    it('reads upper-case TRUE as active', () => {
      expect(report.reverse.csv).toContain(',FALSE,TRUE,2019-09-25');
      expect(parsed.keys.map(row)).toEqual([
        ['zscholl', 'Active', '2019-09-25T10:52:11Z', '2019-09-25T10:58:00Z', 's3', 'us-west-1'],
        ['zscholl', 'Active', '2099-08-10T11:13:31Z', '2020-04-02T13:08:00Z', 's3', 'us-west-1'],
      ]);
    });

    it('never calls the key "created" in 2099 fresh, nor gives it a negative age', () => {
      const j = judge(parsed.keys, policy(), today);
      expect(stale(j)).toEqual([['zscholl', 2615, 2615, ['age']]]);
      expect(j.undetermined.map(row)).toEqual([parsed.keys[1]!].map(row));
      expect(j.dueSoon).toEqual([]);

      // With max-unused-days on, its last use (2020) makes it stale whatever its age.
      const unused = judge(parsed.keys, policy({ maxUnusedDays: 90 }), today);
      expect(stale(unused)).toEqual([
        ['zscholl', 2615, 2615, ['age', 'unused']],
        ['zscholl', null, 2425, ['unused']],
      ]);
      expect(unused.undetermined).toEqual([]);
    });

    it("agrees with custodian's reverse filter on key 1, and never passes the key custodian skips", () => {
      // Custodian: keys last used 90 or more days ago and created 90 or more days ago → key 1
      // only; the 2099 key is "younger" than any clock and never matches. We flag key 1 for both
      // reasons, and leave the 2099 key undetermined (or stale by disuse) instead of fresh.
      const j = judge(parsed.keys, policy({ maxUnusedDays: 90 }), today);
      expect(j.stale.find((f) => f.createDate?.getUTCFullYear() === 2019)?.reasons).toEqual(['age', 'unused']);
      expect(j.stale.every((f) => f.ageDays === null || f.ageDays >= 0)).toBe(true);
    });
  },
);

describe.skipIf(!SHARED_REALDATA)(
  'cloud-custodian test_iam_user_credential_multi_delete_noop (an inactive key, an active one from 2099)',
  () => {
    const parsed = parseCredentialReport(report.noop.csv);

    it('reads an inactive key with its date, and the root row without keys', () => {
      expect(parsed.keys.map(row)).toEqual([
        ['test1', 'Inactive', '2020-02-03T09:50:07Z', null, null, null],
        ['test1', 'Active', '2099-02-03T09:50:21Z', null, null, null],
      ]);
    });

    it('leaves the 2099 key undetermined, and the inactive one out unless include-inactive is set', () => {
      const j = judge(parsed.keys, policy(), today);
      expect(j.stale).toEqual([]);
      expect(j.undetermined.map((k) => iso(k.createDate))).toEqual(['2099-02-03T09:50:21Z']);
      const inactive = judge(parsed.keys, policy({ includeInactive: true }), today);
      expect(inactive.stale.map((f) => [f.status, f.ageDays, f.reasons])).toEqual([['Inactive', 2484, ['age']]]);
    });

    it('makes the scan incomplete, with a gap that says why', () => {
      const result = scanResult(parsed.keys);
      expect(scanGaps(result)).toEqual([
        {
          what: '1 key has no creation date or one in the future, so max-age-days (90) could not be checked for it',
          fix: "Check the runner's clock, and the dates in the credential report",
          couldHideStale: true,
        },
      ]);
      expect(isIncomplete(result)).toBe(true);
    });
  },
);

describe.skipIf(!SHARED_REALDATA)(
  'cloud-custodian test_iam_user_credential_multi_delete (a key created after the report)',
  () => {
    const parsed = parseCredentialReport(report.multiDelete.csv);

    it('reads a key whose creation (2019) follows the report (2018) and its own last use', () => {
      expect(report.multiDelete.generatedAt).toEqual(t('2018-12-02T01:18:49Z'));
      expect(parsed.keys.map(row)).toEqual([
        ['kapil', 'Active', '2019-12-14T10:26:37Z', '2018-11-21T06:54:00Z', 'ecr', 'us-east-1'],
        ['kapil', 'Active', '2016-06-24T20:30:37Z', '2018-12-01T22:25:00Z', 'sts', 'us-east-1'],
      ]);
    });

    it('judged when recorded, flags the old key and leaves the "future" one undetermined', () => {
      const j = judge(parsed.keys, policy({ maxUnusedDays: 30 }), t('2018-12-02T03:39:57Z'));
      expect(stale(j)).toEqual([['kapil', 891, 1, ['age']]]);
      expect(j.undetermined.map((k) => iso(k.createDate))).toEqual(['2019-12-14T10:26:37Z']);
    });

    it('judged today, flags both', () => {
      expect(stale(judge(parsed.keys, policy({ maxUnusedDays: 30 }), today))).toEqual([
        ['kapil', 3803, 2913, ['age', 'unused']],
        ['kapil', 2535, 2923, ['age', 'unused']],
      ]);
    });
  },
);

describe.skipIf(!SHARED_REALDATA)('cloud-custodian test_iam_user_delete_options (no root row)', () => {
  const parsed = SHARED_REALDATA ? parseCredentialReport(report.deleteOptions.csv) : { userCount: 0, keys: [] };

  it('reads a key created seconds before the report as 0 days old, and judges it fresh then, stale now', () => {
    expect(parsed.keys.map(row)).toEqual([['test_user', 'Active', '2018-06-01T00:02:57Z', null, null, null]]);
    const then = judge(parsed.keys, policy({ maxUnusedDays: 30 }), t('2018-06-01T00:03:33Z'));
    expect([then.stale, then.dueSoon, then.undetermined]).toEqual([[], [], []]);
    expect(stale(judge(parsed.keys, policy({ maxUnusedDays: 30 }), today))).toEqual([
      ['test_user', 3096, 3096, ['age', 'unused']],
    ]);
  });
});

describe("CloudMapper's demo account", () => {
  const parsed = parseCredentialReport(report.cloudmapper.csv);

  it('reads the root row, the only row, as an active root key', () => {
    expect(parsed.userCount).toBe(0);
    expect(parsed.keys.map(row)).toEqual([
      [ROOT_USER, 'Active', '2018-11-23T16:01:14Z', '2018-11-27T00:02:00Z', 'ecr', 'us-east-1'],
    ]);
  });

  it('agrees with its audit test: ROOT_USER_HAS_ACCESS_KEYS and USER_HAS_NOT_USED_ACCESS_KEY_FOR_MAX_DAYS', () => {
    // CloudMapper: the account summary counts root access keys → ROOT_USER_HAS_ACCESS_KEYS; an
    // active key last used more than 90 days before the report was generated →
    // USER_HAS_NOT_USED_ACCESS_KEY_FOR_MAX_DAYS (here the root's). Judged at the report's time:
    const j = judge(parsed.keys, policy({ maxUnusedDays: 90 }), report.cloudmapper.generatedAt);
    expect(report.cloudmapper.generatedAt).toEqual(t('2019-05-02T21:49:50Z'));
    expect(stale(j)).toEqual([[ROOT_USER, 160, 156, ['root-key', 'age', 'unused']]]);
  });
});

describe("security-hq's test reports", () => {
  const parsed = parseCredentialReport(csv.securityHq);

  it('reads every key, an inactive one included', () => {
    expect(parsed.keys.map(row)).toEqual([
      ['with-disabled-key', 'Inactive', '2017-04-19T15:47:39Z', '2017-04-19T15:48:00Z', 'ec2', 'eu-west-1'],
      ['with-disabled-key', 'Active', '2016-07-29T09:20:20Z', '2017-05-24T11:35:00Z', 'sts', 'us-east-1'],
      ['different-region', 'Active', '2015-05-28T15:00:00Z', '2016-04-04T11:18:00Z', 'iam', 'us-east-1'],
      ['credential-user', 'Active', '2015-10-22T14:45:00Z', '2017-08-30T13:32:00Z', 'ec2', 'eu-west-1'],
    ]);
  });

  it("agrees with security-hq's parse: five rows, the root and IAM-user keyless, credential-user's key as read", () => {
    // security-hq: 5 rows; the root row's and IAM-user's keys are all inactive and undated;
    // credential-user's key 1 is active, rotated 2015-10-22 14:45, last used 2017-08-30 13:32 in
    // eu-west-1 on ec2.
    expect(parsed.userCount + 1).toBe(5);
    expect(parsed.keys.some((k) => k.root || k.user === 'IAM-user')).toBe(false);
    expect(parsed.keys.filter((k) => k.user === 'credential-user').map(row)).toEqual([
      ['credential-user', 'Active', '2015-10-22T14:45:00Z', '2017-08-30T13:32:00Z', 'ec2', 'eu-west-1'],
    ]);
  });

  it("agrees with prowler's 90-day rotation check on which keys are old", () => {
    // prowler: an active key whose last_rotated is more than 90 days ago fails; inactive ones
    // are not looked at.
    const j = judge(parsed.keys, policy({ maxUnusedDays: 90 }), t('2017-09-01T00:00:00Z'));
    expect(stale(j)).toEqual([
      ['different-region', 827, 515, ['age', 'unused']],
      ['credential-user', 680, 2, ['age']],
      ['with-disabled-key', 399, 100, ['age', 'unused']],
    ]);
    expect(j.stale.every((f) => f.status === 'Active')).toBe(true);
  });

  it('reads the report without a root row and with no_information for the password the same way', () => {
    const alone = parseCredentialReport(csv.securityHqNoPassword);
    expect(csv.securityHqNoPassword).toContain(',false,no_information,N/A,');
    expect(alone.keys).toEqual(parsed.keys.filter((k) => k.user === 'credential-user'));
  });
});

describe("oil's test report", () => {
  const parsed = parseCredentialReport(csv.oil);

  it('reads user names with dots, and the last row without a newline', () => {
    expect(parsed.keys.map(row)).toEqual([
      ['example.user', 'Active', '2017-06-10T02:47:48Z', null, null, null],
      ['fakeuser', 'Active', '2017-10-22T08:12:39Z', '2017-11-08T18:39:00Z', 'ec2', 'ap-southeast-1'],
      ['final.user', 'Active', '2017-06-10T02:42:36Z', null, null, null],
    ]);
  });

  it('judges two never-used keys stale by age and disuse, and the used one fresh', () => {
    const j = judge(parsed.keys, policy({ maxUnusedDays: 30 }), t('2017-11-10T00:00:00Z'));
    expect(stale(j)).toEqual([
      ['example.user', 153, 153, ['age', 'unused']],
      ['final.user', 153, 153, ['age', 'unused']],
    ]);
    expect(j.dueSoon).toEqual([]);
  });
});

describe('a real report made to lack its last-use columns', () => {
  const keys = parseCredentialReport(withoutColumns(csv.securityHq, /_last_used_/)).keys;
  const now = t('2017-09-01T00:00:00Z');

  it('still judges age, and leaves disuse undetermined where it could decide', () => {
    const j = judge(keys, policy({ maxUnusedDays: 90 }), now);
    expect(stale(j)).toEqual([
      ['different-region', 827, null, ['age']],
      ['credential-user', 680, null, ['age']],
      ['with-disabled-key', 399, null, ['age']],
    ]);
    expect(j.undetermined).toEqual([]);
    // Without max-unused-days, unknown last use decides nothing.
    expect(judge(keys, policy(), now).undetermined).toEqual([]);
  });

  it('calls an active key old enough to be idle undetermined, and the scan incomplete for it', () => {
    const young = keys.filter((k) => k.user === 'with-disabled-key' && k.status === 'Active');
    const result = scanResult(young, { policy: policy({ maxAgeDays: 36_500, maxUnusedDays: 90 }) });
    expect(result.judgement.undetermined).toHaveLength(1);
    expect(scanGaps(result).map((g) => [g.what, g.fix])).toEqual([
      [
        'The last use of 1 active key is unknown, so max-unused-days (90) could not be checked for it',
        'Grant iam:GetAccessKeyLastUsed',
      ],
    ]);
  });
});
