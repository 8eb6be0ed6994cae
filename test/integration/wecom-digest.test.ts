/** `notifyWecomDigest` against the loopback fake WeCom: one message a run, whatever the number of accounts. */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountRun } from '../../src/run/overview.js';
import { notifyDigest, type DigestRun, type NotifyWhen } from '../../src/notifications/notify.js';
import { wecomChannel, type WecomSettings } from '../../src/notifications/wecom/index.js';
import type { Language } from '../../src/notifications/message.js';
import type { NotifyLog } from '../../src/notifications/channel.js';
import type { WecomDeps } from '../../src/notifications/wecom/client.js';
import { startFakeWecom, type FakeWecom, type FakeWecomOptions } from '../fakes/wecom.js';
import { key, scanResult } from '../helpers/scan-fixtures.js';

let fake: FakeWecom | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(opts?: FakeWecomOptions): Promise<FakeWecom> {
  fake = await startFakeWecom(opts);
  return fake;
}

const runUrl = 'https://github.com/acme/security/actions/runs/42';

function account(i: number, over: { stale?: number; failed?: boolean; changed?: boolean } = {}): DigestRun {
  const id = String(300_000_000_000 + i);
  const name = `Team ${i} workloads`;
  if (over.failed) {
    return {
      account: { id, name },
      result: null,
      error: `Could not assume role arn:aws:iam::${id}:role/x`,
      issue: null,
    };
  }
  const keys = [key('fresh', 10), ...Array.from({ length: over.stale ?? 0 }, (_, k) => key(`old-${k}`, 100 + k))];
  const result = scanResult(keys, { alias: null });
  result.account = { ...result.account, id };
  const issue =
    over.changed === undefined
      ? null
      : { action: 'updated', number: i, url: `https://github.com/acme/security/issues/${i}`, changed: over.changed };
  return { account: { id, name }, result, error: null, issue };
}

type WecomConfig = WecomSettings & { notifyWhen: NotifyWhen; language: Language };

/** The digest through the WeCom channel alone: whether it was delivered. */
async function notifyWecomDigest(
  cfg: WecomConfig,
  runs: readonly DigestRun[],
  ctx: { runUrl: string | null },
  d: WecomDeps,
  l: NotifyLog,
): Promise<boolean> {
  const { notifyWhen, language, ...wecom } = cfg;
  const channels = wecom.webhookUrl || wecom.app ? [wecomChannel(wecom)] : [];
  return (await notifyDigest({ channels, notifyWhen, language }, runs, ctx, d, l)).length > 0;
}

function config(over: Partial<WecomConfig> = {}): WecomConfig {
  return { webhookUrl: null, mentionedList: [], app: null, notifyWhen: 'stale', language: 'en', ...over };
}

function deps(over: Partial<WecomDeps> = {}): WecomDeps & { slept: number[] } {
  const slept: number[] = [];
  return {
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
    setSecret: () => {},
    timeoutMs: 2_000,
    slept,
    ...over,
  };
}

function log() {
  const lines = { info: [] as string[], warning: [] as string[] };
  return { lines, info: (m: string) => lines.info.push(m), warning: (m: string) => lines.warning.push(m) };
}

const thousand = () =>
  Array.from({ length: 1_000 }, (_, i) =>
    account(i, i % 10 === 0 ? { stale: 1 + (i % 4), changed: false } : i % 97 === 1 ? { failed: true } : {}),
  );

describe('notifyWecomDigest', () => {
  it('posts one markdown message for 1,000 accounts, and one text for @all, in Chinese', async () => {
    const f = await start();
    const l = log();
    const ok = await notifyWecomDigest(
      config({ webhookUrl: f.webhookUrl, mentionedList: ['zhangsan', '@all'], language: 'zh' }),
      thousand(),
      { runUrl },
      deps(),
      l,
    );
    expect(ok).toBe(true);
    expect(f.messages.map((m) => [m.msgtype, m.mentioned_list])).toEqual([
      ['markdown', ['zhangsan']],
      ['text', ['@all']],
    ]);
    const content = f.messages[0]!.content;
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    expect(content.split('\n')[0]).toBe('**1,000 个账号中有 100 个存在过期的访问密钥，共 200 个**');
    expect(content).toMatch(/……另有 \d+ 个账号/);
    expect(f.messages[1]!.content).toBe('请尽快轮换 100 个账号中过期的访问密钥。');
    expect(l.lines.info).toEqual([
      'WeCom: notified the group robot with the digest of 1,000 accounts, mentioning zhangsan, @all.',
    ]);
    expect(l.lines.warning).toEqual([]);
  });

  it('sends one app message within 2,048 bytes', async () => {
    const f = await start();
    const app = { baseUrl: f.url, corpId: f.corpId, corpSecret: f.corpSecret, agentId: f.agentId, toUser: '@all' };
    const l = log();
    expect(await notifyWecomDigest(config({ app }), thousand(), { runUrl }, deps(), l)).toBe(true);
    expect(f.messages).toHaveLength(1);
    expect(f.messages[0]).toMatchObject({ via: 'app', msgtype: 'text' });
    expect(f.messages[0]!.content.split('\n')[0]).toBe('200 access keys are stale in 100 of 1,000 accounts');
    expect(l.lines.info).toEqual(['WeCom: notified @all by an app message with the digest of 1,000 accounts.']);
  });

  it('says nothing under notify-when: stale when every account was scanned completely and is clean', async () => {
    const f = await start();
    const l = log();
    const runs = Array.from({ length: 50 }, (_, i) => account(i));
    expect(await notifyWecomDigest(config({ webhookUrl: f.webhookUrl }), runs, { runUrl }, deps(), l)).toBe(false);
    expect(f.requests).toEqual([]);
    expect(l.lines.info).toEqual(['Notifications: nothing to say about 50 accounts (notify-when: stale).']);
  });

  it('posts under notify-when: stale when one account could not be scanned', async () => {
    const f = await start();
    const runs = [...Array.from({ length: 50 }, (_, i) => account(i)), account(50, { failed: true })];
    expect(await notifyWecomDigest(config({ webhookUrl: f.webhookUrl }), runs, { runUrl }, deps(), log())).toBe(true);
    expect(f.messages[0]!.content.split('\n')[0]).toBe('**Stale keys may be missing: 1 account could not be scanned**');
  });

  it('under notify-when: changed, posts only when an account changed', async () => {
    const f = await start();
    const unchanged = [account(1, { stale: 2, changed: false }), account(2)];
    const cfg = config({ webhookUrl: f.webhookUrl, notifyWhen: 'changed' });
    expect(await notifyWecomDigest(cfg, unchanged, { runUrl }, deps(), log())).toBe(false);
    const changed = [account(1, { stale: 2, changed: false }), account(2, { changed: true })];
    expect(await notifyWecomDigest(cfg, changed, { runUrl }, deps(), log())).toBe(true);
    expect(f.messages).toHaveLength(1);
  });

  it("waits out the robot's minute after a 45009, saying so, then delivers the one message", async () => {
    const f = await start({ failures: { webhook: [45009] } });
    const d = deps();
    const l = log();
    expect(await notifyWecomDigest(config({ webhookUrl: f.webhookUrl }), thousand(), { runUrl }, d, l)).toBe(true);
    expect(d.slept).toEqual([63_000]);
    expect(f.messages).toHaveLength(1);
    expect(l.lines.info[0]).toBe(
      'WeCom robot webhook (key hidden): rate-limited (errcode 45009, 20 messages a minute per robot); waiting 63 s, then trying once more.',
    );
    expect(l.lines.warning).toEqual([]);
  });

  it('gives up with one warning at a second 45009', async () => {
    const f = await start({ failures: { webhook: [45009, 45009] } });
    const d = deps();
    const l = log();
    expect(await notifyWecomDigest(config({ webhookUrl: f.webhookUrl }), thousand(), { runUrl }, d, l)).toBe(false);
    expect(f.requests).toHaveLength(2);
    expect(d.slept).toEqual([63_000]);
    expect(l.lines.warning).toHaveLength(1);
    expect(l.lines.warning[0]).toMatch(/^WeCom notification failed: .*errcode 45009 .* again after a 63 s wait\. /);
  });

  it("takes the run's AccountRun[] as it is", async () => {
    const f = await start();
    const { result } = account(1, { stale: 1 });
    const runs: AccountRun[] = [
      {
        account: { id: '300000000001', name: null },
        result,
        error: null,
        issue: { action: 'none', number: null, url: null },
      },
    ];
    expect(await notifyWecomDigest(config({ webhookUrl: f.webhookUrl }), runs, { runUrl }, deps(), log())).toBe(true);
  });
});
