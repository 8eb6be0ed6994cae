/**
 * Every chat adapter against its loopback fake, which checks signatures as the service does and
 * enforces its limits: what each received, and how each failure reads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notifyAccount, notifyDigest, type DigestRun, type NotifyConfig } from '../../src/notifications/notify.js';
import { notifyConfig } from '../../src/notifications/index.js';
import type { NotifyInputs } from '../../src/inputs.js';
import type { ChatDeps } from '../../src/notifications/http.js';
import { fullKeyId } from '../../src/render/present.js';
import { startFakeDingtalk, DINGTALK_ERRCODE } from '../fakes/dingtalk.js';
import { startFakeFeishu, FEISHU_CODE } from '../fakes/feishu.js';
import { startFakeSlack } from '../fakes/slack.js';
import { startFakeWecom } from '../fakes/wecom.js';
import { key, scanResult } from '../helpers/scan-fixtures.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function fakes(opts: { dingtalk?: object; feishu?: object; slack?: object } = {}) {
  const [wecom, dingtalk, feishu, slack] = await Promise.all([
    startFakeWecom(),
    startFakeDingtalk({ secret: 'SECdingtalk-0001', ...opts.dingtalk }),
    startFakeFeishu({ secret: 'feishu-secret-0001', ...opts.feishu }),
    startFakeSlack(opts.slack),
  ]);
  for (const fake of [wecom, dingtalk, feishu, slack]) closers.push(() => fake.close());
  return { wecom, dingtalk, feishu, slack };
}

type Fakes = Awaited<ReturnType<typeof fakes>>;

function inputs(f: Fakes, over: Partial<NotifyInputs> = {}): NotifyInputs {
  return {
    wecom: { webhookUrl: f.wecom.webhookUrl, mentionedList: [], app: null },
    dingtalk: { webhookUrl: f.dingtalk.url, secret: 'SECdingtalk-0001', atMobiles: ['13800000000'] },
    feishu: { webhookUrl: f.feishu.url, secret: 'feishu-secret-0001', at: ['ou_0123456789abcdef'] },
    slack: { webhookUrl: f.slack.url, mention: ['U024BE7LH'] },
    notifyWhen: 'stale',
    language: 'en',
    ...over,
  };
}

function deps(over: Partial<ChatDeps> = {}): ChatDeps & { slept: number[]; secrets: string[] } {
  const slept: number[] = [];
  const secrets: string[] = [];
  return {
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    setSecret: (s) => secrets.push(s),
    timeoutMs: 2_000,
    slept,
    secrets,
    ...over,
  };
}

function log() {
  const lines = { info: [] as string[], warning: [] as string[] };
  return { lines, info: (m: string) => lines.info.push(m), warning: (m: string) => lines.warning.push(m) };
}

const result = () => scanResult([key('alice', 213), key('bob', 80)]);
const ctx = { keyId: fullKeyId, runUrl: 'https://github.com/acme/sec/actions/runs/7', issue: null, changed: null };

async function notify(config: NotifyConfig, d = deps(), l = log()) {
  return { delivered: await notifyAccount(config, result(), ctx, d, l), d, l };
}

describe('every chat at once', () => {
  it('sends each its native message, signed where the robot signs, and lists all four', async () => {
    const f = await fakes();
    const { delivered, d, l } = await notify(notifyConfig(inputs(f)));
    expect(delivered).toEqual(['wecom', 'dingtalk', 'feishu', 'slack']);
    expect(l.lines.warning).toEqual([]);
    expect(f.wecom.messages.map((m) => m.msgtype)).toEqual(['markdown']);
    const [ding] = f.dingtalk.messages();
    expect(ding?.msgtype).toBe('markdown');
    expect(ding?.atMobiles).toEqual(['13800000000']);
    const [card] = f.feishu.messages();
    expect(card?.msg_type).toBe('interactive');
    const [slack] = f.slack.messages();
    expect(slack?.text).toContain('1 access key in account prod');
    expect(slack?.blocks?.[0]).toMatchObject({ type: 'header' });
    // Each signature masked before it was sent.
    const sign = new URL(f.dingtalk.requests()[0]!.url, 'http://x').searchParams.get('sign');
    expect(d.secrets).toContain(sign);
  });
});

describe('one chat failing', () => {
  it('a wrong DingTalk secret: one warning naming the code and the fix; the others deliver', async () => {
    const f = await fakes();
    const config = notifyConfig(
      inputs(f, { dingtalk: { webhookUrl: f.dingtalk.url, secret: 'SECwrong', atMobiles: [] } }),
    );
    const { delivered, l } = await notify(config);
    expect(delivered).toEqual(['wecom', 'feishu', 'slack']);
    expect(l.lines.warning).toHaveLength(1);
    expect(l.lines.warning[0]).toMatch(
      /^DingTalk notification failed: DingTalk robot \(token hidden\) failed: errcode 310000 \(.*签名不匹配.*\)\. The signature was refused: dingtalk-secret must be the robot's own signing secret/,
    );
    expect(f.dingtalk.requests()).toHaveLength(1);
  });

  it('a wrong Feishu secret: code 19021 and the fix', async () => {
    const f = await fakes();
    const config = notifyConfig(inputs(f, { feishu: { webhookUrl: f.feishu.url, secret: 'nope', at: [] } }));
    const { delivered, l } = await notify(config);
    expect(delivered).toEqual(['wecom', 'dingtalk', 'slack']);
    expect(l.lines.warning).toEqual([
      expect.stringMatching(
        /^Feishu notification failed: .*code 19021 .*feishu-secret must be the bot's own signing secret/,
      ),
    ]);
  });

  it('a keyword the robot requires: DingTalk and Feishu say to use iam-stale-keys', async () => {
    const f = await fakes({
      dingtalk: { secret: undefined, keywords: ['告警'] },
      feishu: { secret: undefined, keywords: ['告警'] },
    });
    const config = notifyConfig(
      inputs(f, {
        dingtalk: { webhookUrl: f.dingtalk.url, secret: null, atMobiles: [] },
        feishu: { webhookUrl: f.feishu.url, secret: null, at: [] },
      }),
    );
    const { l } = await notify(config);
    expect(l.lines.warning).toHaveLength(2);
    for (const w of l.lines.warning) expect(w).toContain('every message carries "iam-stale-keys"');
  });

  it('passes the keyword check when iam-stale-keys is the keyword', async () => {
    const f = await fakes({
      dingtalk: { secret: undefined, keywords: ['iam-stale-keys'] },
      feishu: { secret: undefined, keywords: ['iam-stale-keys'] },
    });
    const config = notifyConfig(
      inputs(f, {
        dingtalk: { webhookUrl: f.dingtalk.url, secret: null, atMobiles: [] },
        feishu: { webhookUrl: f.feishu.url, secret: null, at: [] },
      }),
    );
    const { delivered } = await notify(config);
    expect(delivered).toEqual(['wecom', 'dingtalk', 'feishu', 'slack']);
  });

  it('Slack: a revoked webhook is one warning with what to do', async () => {
    const f = await fakes({ slack: { failures: ['no_service'] } });
    const { delivered, l } = await notify(notifyConfig(inputs(f)));
    expect(delivered).toEqual(['wecom', 'dingtalk', 'feishu']);
    expect(l.lines.warning).toEqual([
      expect.stringMatching(
        /^Slack notification failed: Slack webhook \(URL hidden\) failed: HTTP 404 \(no_service\)\. The webhook URL is wrong or was revoked/,
      ),
    ]);
  });
});

describe('rate limits and transient failures, within a bound', () => {
  it('Slack 429: waits the Retry-After, then delivers', async () => {
    const f = await fakes({
      slack: { failures: [{ status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' }] },
    });
    const { delivered, d, l } = await notify(notifyConfig(inputs(f, { wecom: null, dingtalk: null, feishu: null })));
    expect(delivered).toEqual(['slack']);
    expect(d.slept).toEqual([3_000]);
    expect(l.lines.info).toContain('Slack: rate-limited (HTTP 429); trying again in 3 s.');
    expect(f.slack.messages()).toHaveLength(1);
  });

  it('Feishu 11232: tries again after a second, then delivers', async () => {
    const f = await fakes({ feishu: { failures: [FEISHU_CODE.frequencyLimited] } });
    const { delivered, d } = await notify(notifyConfig(inputs(f, { wecom: null, dingtalk: null, slack: null })));
    expect(delivered).toEqual(['feishu']);
    expect(d.slept).toEqual([1_000]);
  });

  it('DingTalk 130101: the robot is silenced for 10 minutes, so no retry, one warning', async () => {
    const f = await fakes({ dingtalk: { failures: [DINGTALK_ERRCODE.sendTooFast] } });
    const { delivered, d, l } = await notify(notifyConfig(inputs(f, { wecom: null, feishu: null, slack: null })));
    expect(delivered).toEqual([]);
    expect(d.slept).toEqual([]);
    expect(f.dingtalk.requests()).toHaveLength(1);
    expect(l.lines.warning[0]).toContain('silenced for 10 minutes');
  });

  it('5xx then success on every webhook chat; at most 3 tries each', async () => {
    const f = await fakes({
      dingtalk: { failures: [{ status: 502 }] },
      feishu: { failures: [{ status: 503 }] },
      slack: { failures: [{ status: 500 }, { status: 500 }, { status: 500 }] },
    });
    const { delivered, l } = await notify(notifyConfig(inputs(f, { wecom: null })));
    expect(delivered).toEqual(['dingtalk', 'feishu']);
    expect(f.slack.requests()).toHaveLength(3);
    expect(l.lines.warning).toEqual([expect.stringMatching(/^Slack notification failed: .*HTTP 500/)]);
  });

  it('no answer: one request, then a warning, within the time-out', async () => {
    const f = await fakes({ feishu: { failures: [{ hang: true }] } });
    const { delivered, l } = await notify(
      notifyConfig(inputs(f, { wecom: null, dingtalk: null, slack: null })),
      deps({ timeoutMs: 300 }),
    );
    expect(delivered).toEqual([]);
    expect(f.feishu.requests()).toHaveLength(1);
    expect(l.lines.warning).toEqual([expect.stringContaining('no answer in 300 ms')]);
  });
});

describe('the organisation mode digest', () => {
  it('goes to every chat the same way: one message a chat for 300 accounts, in Chinese', async () => {
    const f = await fakes();
    const runs: DigestRun[] = Array.from({ length: 300 }, (_, i) => {
      const r = scanResult(i % 3 === 0 ? [key('alice', 200 + i)] : [key('bob', 10)], { alias: `team-${i}` });
      r.account = { ...r.account, id: String(300_000_000_000 + i) };
      return { account: { id: r.account.id, name: `Team ${i}` }, result: r, error: null, issue: null };
    });
    const l = log();
    const delivered = await notifyDigest(
      notifyConfig(inputs(f, { language: 'zh' })),
      runs,
      { runUrl: 'https://github.com/acme/sec/actions/runs/7' },
      deps(),
      l,
    );
    expect(delivered).toEqual(['wecom', 'dingtalk', 'feishu', 'slack']);
    expect(f.wecom.messages).toHaveLength(1);
    expect(f.dingtalk.messages()).toHaveLength(1);
    expect(f.feishu.messages()).toHaveLength(1);
    expect(f.slack.messages()).toHaveLength(1);
    expect(f.dingtalk.messages()[0]!.title).toBe('300 个账号中有 100 个存在过期的访问密钥，共 100 个');
    // DingTalk's 5,000 bytes hold some of the 100 accounts and say how many more; Slack's sections hold all.
    expect(f.dingtalk.messages()[0]!.text).toMatch(/……另有 \d+ 个账号/);
    expect(JSON.stringify(f.slack.messages()[0]!.blocks).match(/个过期密钥/g)).toHaveLength(100);
    expect(l.lines.info).toContain(
      'Slack: notified the channel with the digest of 300 accounts, mentioning U024BE7LH.',
    );
  });
});
