/**
 * End-to-end: DingTalk, Feishu/Lark and Slack beside WeCom, from the built dist/index.js, against
 * loopback fakes that check signatures as the services do, with GitHub, STS, IAM and OIDC fakes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeDingtalk, DINGTALK_ERRCODE, type FakeDingtalk, type FakeDingtalkOptions } from '../fakes/dingtalk.js';
import { startFakeFeishu, type FakeFeishu, type FakeFeishuOptions } from '../fakes/feishu.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from '../fakes/slack.js';
import { startFakeWecom, type FakeWecom } from '../fakes/wecom.js';
import { fakeEndpoints, visibleLog } from '../helpers/action-process.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';

const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

const DINGTALK_SECRET = 'SECe2eDingtalkSigningSecret0001';
const FEISHU_SECRET = 'e2eFeishuSigningSecret0001';

interface World {
  aws: FakeAws;
  github: FakeGithub;
  oidc: FakeOidc;
  wecom: FakeWecom;
  dingtalk: FakeDingtalk;
  feishu: FakeFeishu;
  slack: FakeSlack;
}

async function world(
  opts: { dingtalk?: FakeDingtalkOptions; feishu?: FakeFeishuOptions; slack?: FakeSlackOptions } = {},
): Promise<World> {
  const [aws, github, oidc, wecom, dingtalk, feishu, slack] = await Promise.all([
    startFakeAws({ account: demoAccount(), report: { inProgressPolls: 0 } }),
    startFakeGithub({ private: true }),
    startFakeOidc(),
    startFakeWecom(),
    startFakeDingtalk({ secret: DINGTALK_SECRET, ...opts.dingtalk }),
    startFakeFeishu({ secret: FEISHU_SECRET, ...opts.feishu }),
    startFakeSlack(opts.slack),
  ]);
  for (const fake of [aws, github, oidc, wecom, dingtalk, feishu, slack]) stop.push(() => fake.close());
  return { aws, github, oidc, wecom, dingtalk, feishu, slack };
}

/** Every chat set, with its secret and mentions. */
function allChats(w: World): Record<string, string> {
  return {
    'wecom-webhook-url': w.wecom.webhookUrl,
    'dingtalk-webhook-url': w.dingtalk.url,
    'dingtalk-secret': DINGTALK_SECRET,
    'dingtalk-at-mobiles': '13800000000',
    'feishu-webhook-url': w.feishu.url,
    'feishu-secret': FEISHU_SECRET,
    'feishu-at': 'ou_0123456789abcdef',
    'slack-webhook-url': w.slack.url,
    'slack-mention': 'U024BE7LH',
  };
}

function scan(w: World, inputs: Record<string, string>): Promise<ActionRun> {
  return runAction({
    inputs: { 'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys', ...inputs },
    env: fakeEndpoints(w),
  });
}

/** Nothing a person or a later step reads may hold a webhook, its token, a secret or a signature. */
function expectNoSecrets(run: ActionRun, w: World): void {
  const seen = [visibleLog(run), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');
  const signs = [
    ...w.dingtalk.requests().map((r) => new URL(r.url, 'http://x').searchParams.get('sign')),
    ...w.feishu.requests().map((r) => (r.body as { sign?: string } | undefined)?.sign),
  ].filter((s): s is string => !!s);
  const tokens = [w.dingtalk.url, w.feishu.url, w.slack.url]
    .map((u) => new URL(u))
    .flatMap((u) => [u.searchParams.get('access_token') ?? '', u.pathname.split('/').at(-1) ?? '']);
  for (const secret of [
    w.wecom.robotKey,
    w.dingtalk.url,
    w.feishu.url,
    w.slack.url,
    DINGTALK_SECRET,
    FEISHU_SECRET,
    ...signs,
    ...tokens.filter((t) => t.length >= 8),
  ]) {
    expect(seen).not.toContain(secret);
  }
  expect(signs.length).toBeGreaterThan(0);
}

describe('all four chats at once', () => {
  it('each receives its native message, signed, and notified-channels lists the four', async () => {
    const w = await world();
    const run = await scan(w, allChats(w));
    expect(run.exitCode).toBe(1);
    expect(run.outputs['notified']).toBe('true');
    expect(run.outputs['notified-channels']).toBe('wecom,dingtalk,feishu,slack');
    expect(run.warnings).toEqual([]);

    expect(w.wecom.messages.map((m) => m.msgtype)).toEqual(['markdown']);
    const ding = w.dingtalk.messages();
    expect(ding).toHaveLength(1);
    expect(ding[0]!.msgtype).toBe('markdown');
    expect(ding[0]!.atMobiles).toEqual(['13800000000']);
    expect(ding[0]!.mentions).toEqual([{ mobile: '13800000000', inText: true }]);
    const card = w.feishu.messages();
    expect(card).toHaveLength(1);
    expect(card[0]!.msg_type).toBe('interactive');
    expect(JSON.stringify(card[0]!.payload)).toContain('<at id=ou_0123456789abcdef></at>');
    const slack = w.slack.messages();
    expect(slack).toHaveLength(1);
    expect(slack[0]!.text).toBe(
      ':red_circle: 4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    );
    const issueUrl = `https://github.com/${w.github.owner}/${w.github.repo}/issues/1`;
    for (const body of [ding[0], card[0]!.payload, slack[0]!.payload]) {
      expect(JSON.stringify(body)).toContain(issueUrl);
      expect(JSON.stringify(body)).toContain('AKIAIOSFODNN7ALICE01');
    }
    for (const label of ['WeCom', 'DingTalk', 'Feishu', 'Slack']) {
      expect(visibleLog(run)).toMatch(new RegExp(`^${label}: notified `, 'm'));
    }
    expectNoSecrets(run, w);
  });

  it('in Chinese', async () => {
    const w = await world();
    const run = await scan(w, { ...allChats(w), language: 'zh' });
    expect(run.outputs['notified-channels']).toBe('wecom,dingtalk,feishu,slack');
    expect(w.dingtalk.messages()[0]!.title).toContain('账号 demo-prod (111111111111) 有 4 个过期的访问密钥');
    expect(JSON.stringify(w.feishu.messages()[0]!.payload)).toContain('查看运行记录');
    expect(w.slack.messages()[0]!.text).toContain('账号 demo-prod');
  });
});

describe('a chat failing', () => {
  it('one down: the others deliver, one warning, the outcome unchanged', async () => {
    const w = await world({ slack: { failures: ['channel_not_found'] } });
    const run = await scan(w, allChats(w));
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(run.outputs['notified']).toBe('true');
    expect(run.outputs['notified-channels']).toBe('wecom,dingtalk,feishu');
    expect(run.warnings).toEqual([
      "Slack notification failed: Slack webhook (URL hidden) failed: HTTP 404 (channel_not_found). The webhook's channel is gone or archived: create a webhook for a live channel.",
    ]);
    expectNoSecrets(run, w);
  });

  it('a wrong signing secret: the service refuses it and the warning says how to fix it', async () => {
    const w = await world();
    const run = await scan(w, {
      'dingtalk-webhook-url': w.dingtalk.url,
      'dingtalk-secret': 'SECnotTheRobotsSecret',
      'feishu-webhook-url': w.feishu.url,
      'feishu-secret': 'not-the-bots-secret',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs['notified']).toBe('false');
    expect(run.outputs['notified-channels']).toBe('');
    expect(run.warnings).toHaveLength(2);
    expect(run.warnings[0]).toMatch(
      /^DingTalk notification failed: .*errcode 310000 .*dingtalk-secret must be the robot's own signing secret/,
    );
    expect(run.warnings[1]).toMatch(
      /^Feishu notification failed: .*code 19021 .*feishu-secret must be the bot's own signing secret/,
    );
    const seen = [visibleLog(run), run.stderr, run.summary].join('\n');
    expect(seen).not.toContain('SECnotTheRobotsSecret');
    expect(seen).not.toContain('not-the-bots-secret');
  });

  it('a rate limit, then success: Slack waits its Retry-After, Feishu a second', async () => {
    const w = await world({
      slack: { failures: [{ status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }] },
      feishu: { failures: [11232] },
    });
    const run = await scan(w, allChats(w));
    expect(run.outputs['notified-channels']).toBe('wecom,dingtalk,feishu,slack');
    expect(run.warnings).toEqual([]);
    expect(w.slack.requests()).toHaveLength(2);
    expect(w.feishu.requests()).toHaveLength(2);
    expect(visibleLog(run)).toContain('Slack: rate-limited (HTTP 429); trying again in 1 s.');
  });

  it('DingTalk over its 20 a minute: no retry into the 10-minute silence, one warning', async () => {
    const w = await world({ dingtalk: { failures: [DINGTALK_ERRCODE.sendTooFast] } });
    const run = await scan(w, { 'dingtalk-webhook-url': w.dingtalk.url, 'dingtalk-secret': DINGTALK_SECRET });
    expect(run.outputs['notified']).toBe('false');
    expect(w.dingtalk.requests()).toHaveLength(1);
    expect(run.warnings).toEqual([expect.stringContaining('errcode 130101')]);
  });
});

describe('input errors, before any request', () => {
  it('a URL of the wrong chat: an input error naming both inputs, and no request anywhere', async () => {
    const w = await world();
    const run = await scan(w, { 'dingtalk-webhook-url': w.slack.url });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      'Input "dingtalk-webhook-url" holds a Slack incoming webhook URL: put it in "slack-webhook-url", and the DingTalk custom robot\'s URL (https://oapi.dingtalk.com/robot/send?access_token=…) in "dingtalk-webhook-url".',
    ]);
    expect(w.aws.requests).toEqual([]);
    expect(w.oidc.requests).toEqual([]);
    expect(w.slack.requests()).toEqual([]);
    expect(w.dingtalk.requests()).toEqual([]);
    expect(visibleLog(run)).not.toContain(new URL(w.slack.url).pathname);
  });
});
