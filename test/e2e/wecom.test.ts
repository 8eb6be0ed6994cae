/**
 * End-to-end: WeCom notifications from the built dist/index.js, against loopback fakes of WeCom,
 * GitHub, STS, IAM and the OIDC endpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws, type FakeAwsOptions } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';
import { startFakeWecom, type FakeWecom, type FakeWecomOptions } from '../fakes/wecom.js';
import { fakeEndpoints, visibleLog } from '../helpers/action-process.js';
import { runAction, type ActionRun } from '../helpers/run-action.js';

const stop: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stop.splice(0).map((close) => close()));
});

interface World {
  aws: FakeAws;
  github: FakeGithub;
  oidc: FakeOidc;
  wecom: FakeWecom;
}

async function world(
  wecomOptions: FakeWecomOptions = {},
  account = demoAccount(),
  awsOptions: Partial<FakeAwsOptions> = {},
): Promise<World> {
  const [aws, github, oidc, wecom] = await Promise.all([
    startFakeAws({ account, report: { inProgressPolls: 0 }, ...awsOptions }),
    startFakeGithub({ private: true }),
    startFakeOidc(),
    startFakeWecom(wecomOptions),
  ]);
  stop.push(
    () => aws.close(),
    () => github.close(),
    () => oidc.close(),
    () => wecom.close(),
  );
  return { aws, github, oidc, wecom };
}

function scan(w: World, inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    inputs: { 'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys', ...inputs },
    env: { ...fakeEndpoints(w), ...env },
  });
}

/**
 * Makes the action's wait after a 45009 (61 to 65 s) fire at once and say its length on stderr,
 * so the test sees the bundle ask for the robot's minute without waiting for it.
 */
const instantRateLimitWait = {
  NODE_OPTIONS: `--import=${new URL('../helpers/instant-rate-limit-wait.mjs', import.meta.url).href}`,
};

/** The waits the action asked for after a 45009, in ms. */
function rateLimitWaits(run: ActionRun): number[] {
  return [...run.stderr.matchAll(/\[instant-rate-limit-wait\] (\d+) ms/g)].map((m) => Number(m[1]));
}

/** Nothing a person or a later step reads may hold a WeCom secret. */
function expectNoWecomSecrets(run: ActionRun, w: World): void {
  const seen = [visibleLog(run), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');
  for (const secret of [w.wecom.robotKey, w.wecom.webhookUrl, w.wecom.corpSecret, ...w.wecom.issuedTokens]) {
    expect(seen).not.toContain(secret);
  }
}

describe('WeCom group robot', () => {
  it('posts one markdown message with the findings, the links and the mentions', async () => {
    const w = await world();
    const run = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, 'wecom-mentioned-list': 'zhangsan,lisi' });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.notified).toBe('true');
    expect(w.wecom.messages.map((m) => m.msgtype)).toEqual(['markdown']);
    const markdown = w.wecom.messages[0]!;
    expect(markdown.content).toContain('4 access keys in account demo-prod (111111111111) are stale');
    expect(markdown.content).toContain('`alice` `AKIAIOSFODNN7ALICE01`: 213 days old');
    expect(markdown.content).toContain(`(https://github.com/${w.github.owner}/${w.github.repo}/actions/runs/4242)`);
    expect(markdown.content).toContain(
      `[Tracking issue #1](https://github.com/${w.github.owner}/${w.github.repo}/issues/1)`,
    );
    expect(markdown.content.split('\n').at(-1)).toBe('<@zhangsan> <@lisi>');
    expect(markdown.mentioned_list).toEqual(['zhangsan', 'lisi']);
    expect(markdown.content).not.toContain('\\');
    expect(Buffer.byteLength(markdown.content)).toBeLessThanOrEqual(4096);
    expect(visibleLog(run)).toContain('WeCom: notified the group robot, mentioning zhangsan, lisi.');
    expectNoWecomSecrets(run, w);
  });

  it('mentions @all with one text message after the markdown, as WeCom documents it', async () => {
    const w = await world();
    const run = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, 'wecom-mentioned-list': 'zhangsan\n@all' });
    expect(run.outputs.notified).toBe('true');
    expect(w.wecom.messages.map((m) => [m.msgtype, m.mentioned_list])).toEqual([
      ['markdown', ['zhangsan']],
      ['text', ['@all']],
    ]);
    expect(w.wecom.messages[1]!.content).toBe(
      'Please rotate the stale access keys in account demo-prod (111111111111).',
    );
  });

  it('a WeCom that never answers: one warning after 10 s, and the summary and outcome as usual', async () => {
    const w = await world({ failures: { webhook: [{ hang: true }, { hang: true }, { hang: true }, { hang: true }] } });
    const started = Date.now();
    const run = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, 'wecom-mentioned-list': 'zhangsan,@all' });
    const elapsed = Date.now() - started;

    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(run.warnings).toEqual([
      'WeCom notification failed: WeCom robot webhook (key hidden) failed: no answer in 10 s. Check that the runner can reach WeCom (a firewall, or HTTPS_PROXY and NO_PROXY).',
    ]);
    expect(run.outputs.notified).toBe('false');
    expect(run.summary).toContain('Stale AWS access keys');
    expect(w.wecom.requests.map((r) => r.answered.status)).toEqual([0]);
    expect(elapsed).toBeGreaterThanOrEqual(10_000);
    expect(elapsed).toBeLessThan(25_000);
    expectNoWecomSecrets(run, w);
  });

  it('writes natural Chinese with language: zh', async () => {
    const w = await world();
    await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, language: 'zh' });
    const content = w.wecom.messages[0]!.content;
    expect(content).toContain(
      '账号 demo-prod (111111111111) 有 4 个过期的访问密钥：1 个属于根用户，3 个超过 90 天未轮换',
    );
    expect(content).toContain('`alice` 的密钥 `AKIAIOSFODNN7ALICE01` 已创建 213 天');
    expect(content).toContain('查看运行记录');
  });

  it("waits out the robot's minute after a frequency limit (45009), then delivers", async () => {
    const w = await world({ failures: { webhook: [45009] } });
    const run = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl }, instantRateLimitWait);
    expect(w.wecom.requests.filter((r) => r.endpoint === 'webhook').map((r) => r.answered.errcode)).toEqual([45009, 0]);
    const waits = rateLimitWaits(run);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(61_000);
    expect(waits[0]).toBeLessThanOrEqual(65_000);
    expect(visibleLog(run)).toMatch(
      /WeCom robot webhook \(key hidden\): rate-limited \(errcode 45009, 20 messages a minute per robot\); waiting 6[1-5] s, then trying once more\./,
    );
    expect(run.outputs.notified).toBe('true');
    expect(run.warnings).toEqual([]);
    expectNoWecomSecrets(run, w);
  });

  it("gives up at a second 45009 after the wait, with one warning, and the outcome stays the scan's", async () => {
    const w = await world({ failures: { webhook: [45009, 45009, 45009, 45009] } });
    const run = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl }, instantRateLimitWait);
    expect(w.wecom.requests.map((r) => r.answered.errcode)).toEqual([45009, 45009]);
    expect(rateLimitWaits(run)).toHaveLength(1);
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(
      /^WeCom notification failed: WeCom robot webhook \(key hidden\) failed: errcode 45009 \(api freq out of limit, hint: \[[^\]]+\]\) again after a 6[1-5] s wait\. A group robot takes at most 20 messages a minute/,
    );
    expect(run.outputs.notified).toBe('false');
    expectNoWecomSecrets(run, w);
  });

  it("turns a wrong key (93000) into one warning with a hint, and the outcome stays the scan's", async () => {
    const w = await world({ failures: { webhook: [93000] } });
    const run = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl });
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(
      /^WeCom notification failed: .*errcode 93000.*copy the whole URL from the group robot's settings/,
    );
    expect(run.outputs.notified).toBe('false');
    expectNoWecomSecrets(run, w);
  });

  it('refuses a plain-http webhook before any request', async () => {
    const w = await world();
    const run = await scan(w, {
      'wecom-webhook-url': 'http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=TOPSECRETKEY',
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/^Input "wecom-webhook-url" must start with https:\/\//);
    expect(visibleLog(run)).not.toContain('TOPSECRETKEY');
    expect(w.aws.requests).toEqual([]);
    expect(w.wecom.requests).toEqual([]);
  });
});

describe('an incomplete scan on WeCom', () => {
  /** Only bob's fresh key, and neither the report nor the account summary may be read: root keys unseen. */
  async function blindToRoot(): Promise<World> {
    const account = demoAccount();
    account.users = account.users.filter((u) => u.name === 'bob');
    account.rootKeys = [];
    return world({}, account, { deny: ['GenerateCredentialReport', 'GetCredentialReport', 'GetAccountSummary'] });
  }

  it('is news under notify-when: stale, and never an all-clear', async () => {
    const w = await blindToRoot();
    const run = await scan(w, {
      'wecom-webhook-url': w.wecom.webhookUrl,
      'wecom-mentioned-list': '@all',
      issue: 'false',
    });
    expect(run.outputs).toMatchObject({ 'scan-complete': 'false', 'stale-count': '0', notified: 'true' });
    const [markdown, text] = w.wecom.messages;
    expect(markdown!.content.split('\n').slice(0, 2)).toEqual([
      '**The scan of account demo-prod (111111111111) is incomplete, so stale keys may be missing**',
      '<font color="warning">No stale access keys among 1 user and 1 key checked, but 1 check could not be made; the run\'s summary says how to fix it</font>',
    ]);
    expect(markdown!.content).not.toContain('color="info"');
    expect(text).toMatchObject({
      msgtype: 'text',
      content: 'The scan of account demo-prod (111111111111) is incomplete, so stale keys may be missing.',
      mentioned_list: ['@all'],
    });
  });

  it('says so in Chinese', async () => {
    const w = await blindToRoot();
    await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, language: 'zh', issue: 'false' });
    expect(w.wecom.messages[0]!.content.split('\n')[0]).toBe(
      '**账号 demo-prod (111111111111) 的扫描不完整，可能遗漏了过期的访问密钥**',
    );
  });
});

describe('WeCom app messages', () => {
  it('gets a token, then sends a text message to the recipients', async () => {
    const w = await world();
    const run = await scan(w, {
      'wecom-corp-id': w.wecom.corpId,
      'wecom-corp-secret': w.wecom.corpSecret,
      'wecom-agent-id': String(w.wecom.agentId),
      'wecom-to-user': 'zhangsan|lisi',
      'wecom-api-base-url': w.wecom.url,
    });
    expect(run.outputs.notified).toBe('true');
    expect(w.wecom.requests.map((r) => r.endpoint)).toEqual(['gettoken', 'send']);
    expect(w.wecom.messages[0]).toMatchObject({
      via: 'app',
      msgtype: 'text',
      touser: 'zhangsan|lisi',
      agentid: w.wecom.agentId,
    });
    expect(Buffer.byteLength(w.wecom.messages[0]!.content)).toBeLessThanOrEqual(2048);
    expectNoWecomSecrets(run, w);
  });

  it('explains a trusted-IP refusal (60020)', async () => {
    const w = await world({ failures: { send: [60020] } });
    const run = await scan(w, {
      'wecom-corp-id': w.wecom.corpId,
      'wecom-corp-secret': w.wecom.corpSecret,
      'wecom-agent-id': String(w.wecom.agentId),
      'wecom-api-base-url': w.wecom.url,
    });
    expect(run.outputs.notified).toBe('false');
    expect(run.warnings[0]).toMatch(/60020.*self-hosted runner/);
    expectNoWecomSecrets(run, w);
  });
});

describe('notify-when', () => {
  const stale = (w: World, when: string) => scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, 'notify-when': when });

  it('stale: every run with stale keys', async () => {
    const w = await world();
    expect((await stale(w, 'stale')).outputs.notified).toBe('true');
    expect((await stale(w, 'stale')).outputs.notified).toBe('true');
    expect(w.wecom.messages).toHaveLength(2);
  });

  it('changed: only when the tracking issue says the set changed', async () => {
    const w = await world();
    expect((await stale(w, 'changed')).outputs['issue-action']).toBe('created');
    const second = await stale(w, 'changed');
    expect(second.outputs['issue-action']).toBe('unchanged');
    expect(second.outputs.notified).toBe('false');
    expect(w.wecom.messages).toHaveLength(1);
  });

  it('changed without a tracking issue behaves as stale', async () => {
    const w = await world();
    await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, 'notify-when': 'changed', issue: 'false' });
    await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl, 'notify-when': 'changed', issue: 'false' });
    expect(w.wecom.messages).toHaveLength(2);
  });

  it('always: the all-clear too; stale: silence when all is well', async () => {
    const account = demoAccount();
    account.users = account.users.filter((u) => u.name === 'bob');
    account.rootKeys = [];
    const w = await world({}, account);
    const quiet = await stale(w, 'stale');
    expect(quiet.exitCode).toBe(0);
    expect(quiet.outputs.notified).toBe('false');
    const loud = await stale(w, 'always');
    expect(loud.outputs.notified).toBe('true');
    expect(w.wecom.messages).toHaveLength(1);
    expect(w.wecom.messages[0]!.content).toMatch(/No stale access keys in account demo-prod \(111111111111\)/);
  });
});
