import { describe, expect, it } from 'vitest';
import { webhookSecrets } from '../../src/notifications/webhooks.js';
import { InputError, partitionOfRegion, readConfig } from '../../src/inputs.js';

/** Like the runner: the job token is always passed unless a workflow blanks it. */
const reader =
  (inputs: Record<string, string>) =>
  (name: string): string =>
    inputs[name] ?? (name === 'github-token' ? 'ghs_token' : '');
const problems = (inputs: Record<string, string>): string[] => {
  try {
    readConfig(reader(inputs));
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected an InputError');
};

describe('readConfig', () => {
  it('applies every documented default', () => {
    expect(readConfig(reader({}))).toEqual({
      roleToAssume: null,
      awsRegion: 'us-east-1',
      partition: 'aws',
      audience: 'sts.amazonaws.com',
      roleSessionName: 'iam-stale-keys',
      roleDurationSeconds: 900,
      policy: { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] },
      owners: { ownerTag: 'owner', tagPrefix: 'iam-stale-keys:', maxExemptionDays: 90 },
      deactivation: { afterDays: 0, dryRun: true, max: 10 },
      scanMethod: 'auto',
      failOnStale: true,
      failOnIncomplete: true,
      redactKeyIds: 'auto',
      issue: {
        enabled: true,
        token: 'ghs_token',
        titleTemplate: 'Stale AWS access keys in {account}',
        labels: ['security', 'stale-access-keys'],
        assignees: [],
        closeResolved: true,
      },
      notify: { wecom: null, dingtalk: null, feishu: null, slack: null, notifyWhen: 'stale', language: 'en' },
      accounts: null,
      warnings: [],
    });
  });

  it('reads every input when set', () => {
    const config = readConfig(
      reader({
        'role-to-assume': 'arn:aws-cn:iam::222222222222:role/security/iam-stale-keys',
        'aws-region': 'cn-northwest-1',
        audience: 'sts.amazonaws.com.cn',
        'role-session-name': 'scan@weekly',
        'role-duration-seconds': '3600',
        'max-age-days': '30',
        'max-unused-days': '45',
        'warn-days': '0',
        'include-inactive': 'TRUE',
        'exclude-users': 'svc-*, ci-bot\n\n  break-glass ',
        'scan-method': 'api',
        'owner-tag': 'Team',
        'tag-prefix': 'sec/',
        'max-exemption-days': '30',
        'deactivate-after-days': '14',
        'dry-run': 'false',
        'max-deactivations': '3',
        'fail-on-stale': 'False',
        'fail-on-incomplete': 'false',
        'redact-key-ids': 'true',
        'github-token': 'ghp_other',
        issue: 'true',
        'issue-title': 'Keys of {account}',
        'issue-labels': 'sec\naws-keys',
        'issue-assignees': '@octocat, hubot',
        'close-resolved-issue': 'false',
        'wecom-webhook-url': 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123',
        'wecom-mentioned-list': 'zhangsan, lisi\n@all',
        'notify-when': 'changed',
        language: 'zh',
      }),
    );
    expect(config).toEqual({
      roleToAssume: 'arn:aws-cn:iam::222222222222:role/security/iam-stale-keys',
      awsRegion: 'cn-northwest-1',
      partition: 'aws-cn',
      audience: 'sts.amazonaws.com.cn',
      roleSessionName: 'scan@weekly',
      roleDurationSeconds: 3600,
      policy: {
        maxAgeDays: 30,
        maxUnusedDays: 45,
        warnDays: 0,
        includeInactive: true,
        excludeUsers: ['svc-*', 'ci-bot', 'break-glass'],
      },
      owners: { ownerTag: 'Team', tagPrefix: 'sec/', maxExemptionDays: 30 },
      deactivation: { afterDays: 14, dryRun: false, max: 3 },
      scanMethod: 'api',
      failOnStale: false,
      failOnIncomplete: false,
      redactKeyIds: 'true',
      issue: {
        enabled: true,
        token: 'ghp_other',
        titleTemplate: 'Keys of {account}',
        labels: ['sec', 'aws-keys'],
        assignees: ['octocat', 'hubot'],
        closeResolved: false,
      },
      notify: {
        wecom: {
          webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123',
          mentionedList: ['zhangsan', 'lisi', '@all'],
          app: null,
        },
        dingtalk: null,
        feishu: null,
        slack: null,
        notifyWhen: 'changed',
        language: 'zh',
      },
      accounts: null,
      warnings: [],
    });
  });

  it('refuses a regular expression where a glob is meant, and says the glob', () => {
    expect(problems({ 'exclude-users': 'svc-.*, ^ci-bot$, deploy-(a|b)' })).toEqual([
      'Input "exclude-users" has "svc-.*", which looks like a regular expression; patterns are globs: * for any characters, ? for one (for example "svc-*").',
      'Input "exclude-users" has "^ci-bot$", which looks like a regular expression; patterns are globs: * for any characters, ? for one (for example "ci-bot").',
      'Input "exclude-users" has "deploy-(a|b)", which looks like a regular expression; patterns are globs: * for any characters, ? for one (for example "deploy-ab").',
    ]);
  });

  it('warns of inputs that are valid but do nothing useful, naming each', () => {
    const config = readConfig(
      reader({ 'exclude-users': '@alice', 'notify-when': 'changed', language: 'zh', 'issue-title': 'AWS keys' }),
    );
    expect(config.warnings).toEqual([
      'Input "exclude-users" has "@alice": patterns are IAM user names, not GitHub logins, so it skips only an IAM user named "@alice".',
      'Input "issue-title" ("AWS keys") has no {account}: every account\'s tracking issue gets the same title, so people cannot tell them apart in the issue list.',
      'Input "notify-when" is set to "changed" but no chat is: set one of wecom-webhook-url (or the WeCom app inputs), dingtalk-webhook-url, feishu-webhook-url or slack-webhook-url, or remove notify-when.',
      'Input "language" is set to "zh" but no chat is: set one of wecom-webhook-url (or the WeCom app inputs), dingtalk-webhook-url, feishu-webhook-url or slack-webhook-url, or remove language.',
    ]);
  });

  it('refuses placeholders in issue-title other than {account}', () => {
    expect(problems({ 'issue-title': 'Keys in {ACCOUNT}' })).toEqual([
      'Input "issue-title" has "{ACCOUNT}", which is not a placeholder: the only one is {account} (lower case, single braces), which becomes the account\'s alias and ID.',
    ]);
    expect(problems({ 'issue-title': 'Keys in ${account}' })[0]).toContain('has "${account}"');
    expect(problems({ 'issue-title': 'Keys in {{account}}' })[0]).toContain('has "{{account}}"');
  });

  it('defaults the audience to the China one in a China region', () => {
    expect(readConfig(reader({ 'aws-region': 'cn-north-1' })).audience).toBe('sts.amazonaws.com.cn');
  });

  it.each([
    ['max-age-days', 'ninety', 'Input "max-age-days" must be a whole number of days from 1 to 3650, got "ninety".'],
    ['max-age-days', '0', 'from 1 to 3650, got "0"'],
    ['max-age-days', '3651', 'from 1 to 3650, got "3651"'],
    ['max-age-days', '12.5', 'got "12.5"'],
    ['max-age-days', '-1', 'got "-1"'],
    [
      'max-unused-days',
      '4000',
      'Input "max-unused-days" must be a whole number of days (0 turns the check off) from 0 to 3650',
    ],
    ['warn-days', 'soon', 'Input "warn-days" must be a whole number'],
    [
      'role-duration-seconds',
      '600',
      'Input "role-duration-seconds" must be a whole number of seconds from 900 to 43200, got "600"',
    ],
    ['role-duration-seconds', '43201', 'got "43201"'],
    ['role-session-name', 'x', 'Input "role-session-name" must be 2 to 64 characters'],
    ['role-session-name', 'has space', 'got "has space"'],
    ['role-session-name', 'a'.repeat(65), 'must be 2 to 64'],
    [
      'aws-region',
      'US East',
      'Input "aws-region" must be an AWS region such as us-east-1 or cn-north-1, got "US East"',
    ],
    ['audience', 'two words', 'Input "audience" must be an OIDC audience'],
    [
      'role-to-assume',
      'iam-stale-keys',
      'Input "role-to-assume" must be an IAM role ARN such as arn:aws:iam::111111111111:role/iam-stale-keys, got "iam-stale-keys"',
    ],
    ['role-to-assume', 'arn:aws:iam::11111111111:role/x', 'must be an IAM role ARN'],
    ['role-to-assume', 'arn:aws:iam::111111111111:user/alice', 'must be an IAM role ARN'],
    ['include-inactive', 'yes', 'Input "include-inactive" must be true or false, got "yes"'],
    ['fail-on-stale', 'maybe', 'Input "fail-on-stale" must be true or false, got "maybe"'],
    ['scan-method', 'report', 'Input "scan-method" must be one of auto, credential-report, api, got "report"'],
    ['redact-key-ids', 'yes', 'Input "redact-key-ids" must be one of auto, true, false, got "yes"'],
    ['github-token', ' ', 'Input "github-token" is empty'],
    ['issue', 'on', 'Input "issue" must be true or false, got "on"'],
    ['issue-labels', ' , ', 'Input "issue-labels" needs at least one label'],
    ['issue-labels', 'x'.repeat(51), "longer than GitHub's 50 characters"],
    ['issue-assignees', 'not a login', 'Input "issue-assignees" has "not a login"'],
    ['issue-title', 't'.repeat(201), 'Input "issue-title" must be at most 200 characters'],
    ['close-resolved-issue', 'nope', 'Input "close-resolved-issue" must be true or false'],
    ['exclude-users', 'svc-*, bad name', 'Input "exclude-users" has "bad name", which is not an IAM user name or glob'],
  ])('rejects %s = %j', (name, value, message) => {
    expect(problems({ [name]: value }).join('\n')).toContain(message);
  });

  it('rejects a role in another partition than the region', () => {
    expect(problems({ 'role-to-assume': 'arn:aws-cn:iam::222222222222:role/r', 'aws-region': 'us-east-1' })).toEqual([
      'Input "role-to-assume" is in partition aws-cn but "aws-region" us-east-1 is in aws: set aws-region to a region of the role\'s partition (cn-north-1 or cn-northwest-1).',
    ]);
  });

  it('rejects warn-days that would make every key due soon', () => {
    expect(problems({ 'max-age-days': '30', 'warn-days': '30' })[0]).toMatch(
      /"warn-days" \(30\) must be smaller than "max-age-days" \(30\)/,
    );
  });

  it('reports every bad input at once', () => {
    const err = (() => {
      try {
        readConfig(reader({ 'max-age-days': 'x', 'scan-method': 'y', 'fail-on-stale': 'z' }));
      } catch (e) {
        return e as InputError;
      }
    })();
    expect(err?.problems).toHaveLength(3);
    expect(err?.message).toMatch(/^3 inputs are invalid:\n- Input "max-age-days"/);
  });
});

describe('WeCom inputs', () => {
  it('reads the app inputs together, with their defaults', () => {
    const { wecom } = readConfig(
      reader({ 'wecom-corp-id': 'ww1', 'wecom-corp-secret': 's', 'wecom-agent-id': '1000002' }),
    ).notify;
    expect(wecom?.app).toEqual({
      baseUrl: 'https://qyapi.weixin.qq.com',
      corpId: 'ww1',
      corpSecret: 's',
      agentId: 1000002,
      toUser: '@all',
    });
  });

  it.each([
    [
      { 'wecom-webhook-url': 'http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY' },
      'Input "wecom-webhook-url" must start with https://',
    ],
    [{ 'wecom-webhook-url': 'SECRETKEY' }, 'Input "wecom-webhook-url" is not a URL'],
    [{ 'wecom-corp-id': 'ww1' }, 'Inputs "wecom-corp-id", "wecom-corp-secret" and "wecom-agent-id" go together'],
    [
      { 'wecom-corp-id': 'ww1', 'wecom-corp-secret': 'SECRETKEY', 'wecom-agent-id': 'x' },
      'Input "wecom-agent-id" must be a whole number',
    ],
    [
      { 'wecom-corp-id': 'ww1', 'wecom-corp-secret': 'SECRETKEY', 'wecom-agent-id': '1', 'wecom-to-user': 'a,b' },
      'Input "wecom-to-user" must be WeCom user IDs separated by |',
    ],
    [
      {
        'wecom-corp-id': 'ww1',
        'wecom-corp-secret': 'SECRETKEY',
        'wecom-agent-id': '1',
        'wecom-api-base-url': 'http://wecom.internal',
      },
      'Input "wecom-api-base-url" must start with https://',
    ],
    [
      {
        'wecom-corp-id': 'ww1',
        'wecom-corp-secret': 'SECRETKEY',
        'wecom-agent-id': '1',
        'wecom-webhook-url': 'https://h/?key=SECRETKEY',
      },
      'Set either "wecom-webhook-url"',
    ],
    [{ 'wecom-mentioned-list': 'zhang san' }, 'Input "wecom-mentioned-list" has "zhang san"'],
    [{ 'wecom-mentioned-list': 'zhangsan' }, 'mentions go through the group robot'],
    [{ 'notify-when': 'never' }, 'Input "notify-when" must be one of stale, changed, always, got "never"'],
    [{ language: 'cn' }, 'Input "language" must be one of en, zh, got "cn"'],
  ])('rejects %j without quoting a secret', (inputs, message) => {
    const text = problems(inputs).join('\n');
    expect(text).toContain(message);
    expect(text).not.toContain('SECRETKEY');
  });
});

describe('issue inputs', () => {
  it('are not checked when issue is false', () => {
    expect(readConfig(reader({ issue: 'false', 'github-token': '', 'issue-labels': ',' })).issue.enabled).toBe(false);
  });
});

describe('partitionOfRegion', () => {
  it('knows the three partitions', () => {
    expect(
      ['us-east-1', 'eu-central-2', 'cn-north-1', 'cn-northwest-1', 'us-gov-west-1'].map(partitionOfRegion),
    ).toEqual(['aws', 'aws', 'aws-cn', 'aws-cn', 'aws-us-gov']);
  });

  it('reads the organisation mode', () => {
    expect(
      readConfig(
        reader({
          accounts: 'organization',
          'organizational-units': 'ou-ab12-11111111\nr-ab12',
          'exclude-accounts': '111111111111, 222222222222',
          'member-role-name': '/security/iam-stale-keys',
          'member-role-auth': 'web-identity',
          'account-concurrency': '32',
          shard: '2/3',
        }),
      ).accounts,
    ).toEqual({
      source: { kind: 'organization', organizationalUnits: ['ou-ab12-11111111', 'r-ab12'] },
      exclude: ['111111111111', '222222222222'],
      memberRoleName: 'security/iam-stale-keys',
      memberRoleAuth: 'web-identity',
      concurrency: 32,
      shard: { index: 2, count: 3 },
    });
    expect(readConfig(reader({ accounts: '111111111111\n222222222222' })).accounts).toMatchObject({
      source: { kind: 'list', ids: ['111111111111', '222222222222'] },
      memberRoleName: 'iam-stale-keys',
      memberRoleAuth: 'assume-role',
      concurrency: 16,
      shard: null,
    });
  });

  it('refuses organisation inputs that are malformed or that do nothing', () => {
    expect(problems({ accounts: 'organisation' })).toEqual([
      'Input "accounts" has "organisation", which is not a 12-digit AWS account ID: give organization, or account IDs separated by commas or newlines.',
    ]);
    expect(problems({ shard: '1/2', 'exclude-accounts': '111111111111' })).toEqual([
      'Input "exclude-accounts" is set but "accounts" is not: it applies to the organisation mode only. Set accounts to organization (or to account IDs), or remove exclude-accounts.',
      'Input "shard" is set but "accounts" is not: it applies to the organisation mode only. Set accounts to organization (or to account IDs), or remove shard.',
    ]);
    expect(
      problems({
        accounts: '111111111111',
        'organizational-units': 'ou-nope',
        'exclude-accounts': '12345',
        'member-role-name': 'has spaces',
        shard: '3/2',
        'account-concurrency': '65',
      }),
    ).toEqual([
      'Input "account-concurrency" must be a whole number of accounts scanned at once from 1 to 64, got "65".',
      'Input "organizational-units" needs "accounts: organization": with a list of account IDs there is nothing to filter by OU.',
      'Input "organizational-units" has "ou-nope", which is not an OU ID: OU IDs look like ou-ab12-11111111 (a root: r-ab12), as the AWS Organizations console shows them.',
      'Input "exclude-accounts" has "12345", which is not a 12-digit AWS account ID.',
      'Input "member-role-name" must be an IAM role name, optionally with a path (iam-stale-keys or security/iam-stale-keys), got "has spaces".',
      'Input "shard" must be i/n with 1 ≤ i ≤ n ≤ 1000 (for example 2/3, the second of three slices), got "3/2".',
    ]);
  });
});

describe('DingTalk, Feishu and Slack inputs', () => {
  const dingtalk = 'https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef';
  const feishu = 'https://open.feishu.cn/open-apis/bot/v2/hook/2f6c8a1e-0000-4000-8000-000000000000';
  const lark = 'https://open.larksuite.com/open-apis/bot/v2/hook/2f6c8a1e-0000-4000-8000-000000000000';
  const slack = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

  it('reads each chat with its secret and mentions', () => {
    const { notify } = readConfig(
      reader({
        'dingtalk-webhook-url': dingtalk,
        'dingtalk-secret': 'SEC0123',
        'dingtalk-at-mobiles': '13800000000, +86-13900000000\n@all',
        'feishu-webhook-url': lark,
        'feishu-secret': 'fs',
        'feishu-at': 'ou_7d8a6e6df7621556ce0d21922b676706ccs, all',
        'slack-webhook-url': slack,
        'slack-mention': 'U024BE7LH, S0614TZR7, here',
      }),
    );
    expect(notify.dingtalk).toEqual({
      webhookUrl: dingtalk,
      secret: 'SEC0123',
      atMobiles: ['13800000000', '+86-13900000000', '@all'],
    });
    expect(notify.feishu).toEqual({
      webhookUrl: lark,
      secret: 'fs',
      at: ['ou_7d8a6e6df7621556ce0d21922b676706ccs', 'all'],
    });
    expect(notify.slack).toEqual({ webhookUrl: slack, mention: ['U024BE7LH', 'S0614TZR7', 'here'] });
  });

  it.each([
    [
      { 'dingtalk-webhook-url': slack },
      'Input "dingtalk-webhook-url" holds a Slack incoming webhook URL: put it in "slack-webhook-url", and the DingTalk custom robot\'s URL (https://oapi.dingtalk.com/robot/send?access_token=…) in "dingtalk-webhook-url".',
    ],
    [{ 'slack-webhook-url': feishu }, 'Input "slack-webhook-url" holds a Feishu/Lark custom bot URL'],
    [{ 'feishu-webhook-url': dingtalk }, 'Input "feishu-webhook-url" holds a DingTalk custom robot URL'],
    [
      { 'wecom-webhook-url': dingtalk },
      'Input "wecom-webhook-url" holds a DingTalk custom robot URL: put it in "dingtalk-webhook-url"',
    ],
    [{ 'feishu-webhook-url': 'https://open.feishu.cn/open-apis/bot/v2/' }, 'is not a Feishu/Lark custom bot URL'],
    [
      { 'dingtalk-webhook-url': 'http://oapi.dingtalk.com/robot/send?access_token=abc' },
      'Input "dingtalk-webhook-url" must start with https://',
    ],
    [{ 'dingtalk-secret': 'SEC0123' }, 'Input "dingtalk-secret" is set but "dingtalk-webhook-url" is not'],
    [{ 'feishu-at': 'ou_abc' }, 'Input "feishu-at" is set but "feishu-webhook-url" is not'],
    [{ 'slack-webhook-url': slack, 'slack-mention': '@alice' }, 'Input "slack-mention" has "@alice"'],
    [
      { 'dingtalk-webhook-url': dingtalk, 'dingtalk-at-mobiles': 'zhangsan' },
      'Input "dingtalk-at-mobiles" has "zhangsan"',
    ],
    [{ 'feishu-webhook-url': feishu, 'feishu-at': 'zhangsan@corp' }, 'Input "feishu-at" has "zhangsan@corp"'],
  ])('refuses %o', (inputs, expected) => {
    const found = problems(inputs);
    expect(found.join('\n')).toContain(expected);
    // Never a token in a message.
    expect(found.join('\n')).not.toMatch(/0123456789abcdef|XXXXXXXXXXXX|2f6c8a1e/);
  });
});

describe('webhookSecrets', () => {
  it('finds the token of every kind of webhook URL, raw and decoded', () => {
    expect(webhookSecrets('https://oapi.dingtalk.com/robot/send?access_token=abc%2Bdef123')).toEqual([
      'abc%2Bdef123',
      'abc+def123',
    ]);
    expect(webhookSecrets('https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXX')).toEqual([
      'XXXXXXXXXXXX',
    ]);
    expect(webhookSecrets('https://open.feishu.cn/open-apis/bot/v2/hook/2f6c8a1e-0000')).toEqual(['2f6c8a1e-0000']);
    expect(webhookSecrets('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx')).toEqual([
      '693a91f6-7xxx',
    ]);
  });
});
