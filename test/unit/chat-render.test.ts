/** DingTalk, Feishu/Lark and Slack rendering at each chat's limits, in both languages, and their signatures. */
import { describe, expect, it } from 'vitest';
import {
  DINGTALK_MARKDOWN_MAX_BYTES,
  dingtalkSign,
  renderDingtalk,
  signedUrl,
} from '../../src/notifications/dingtalk/index.js';
import { FEISHU_BODY_MAX_BYTES, feishuSign, renderFeishu } from '../../src/notifications/feishu/index.js';
import { accountMessage, digestMessage, type Language, type Message } from '../../src/notifications/message.js';
import { renderSlack, SLACK_LIMITS, slackMention } from '../../src/notifications/slack/index.js';
import { fullKeyId } from '../../src/render/present.js';
import { applyClaims } from '../../src/account/owners.js';
import { renderRobotMarkdown } from '../../src/notifications/wecom/render.js';
import type { AccessKey } from '../../src/model.js';
import { key, scanResult } from '../helpers/scan-fixtures.js';

const runUrl = 'https://github.com/acme/infra/actions/runs/42';
const issue = { number: 12, url: 'https://github.com/acme/infra/issues/12' };
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function message(keys: AccessKey[], language: Language = 'en', alias: string | null = 'prod'): Message {
  return accountMessage({ result: scanResult(keys, { alias }), keyId: fullKeyId, language, runUrl, issue });
}

/** 500 stale keys, the users named in a way that would be long in any script. */
const fiveHundred = (): AccessKey[] =>
  Array.from({ length: 500 }, (_, i) =>
    key(`service-account-number-${String(i).padStart(3, '0')}@example.com`, 100 + i),
  );

const languages: Language[] = ['en', 'zh'];

describe('signatures, against vectors worked out by hand with openssl', () => {
  it('DingTalk: Base64(HMAC-SHA256(key = secret, data = timestamp + "\\n" + secret)), timestamp in ms', () => {
    // printf '%s\n%s' 1700000000000 SECabcdef0123456789 | openssl dgst -sha256 -hmac SECabcdef0123456789 -binary | base64
    expect(dingtalkSign('SECabcdef0123456789', 1_700_000_000_000)).toBe('dV0RXHUD72d0VKcnHrBhJ9jhSbDS3HUiduucxO+izso=');
  });

  it('DingTalk: the signature goes URL-encoded into the query, with the timestamp', () => {
    const url = signedUrl(
      'https://oapi.dingtalk.com/robot/send?access_token=abc',
      'SECabcdef0123456789',
      1_700_000_000_000,
    );
    expect(url.search).toBe(
      '?access_token=abc&timestamp=1700000000000&sign=dV0RXHUD72d0VKcnHrBhJ9jhSbDS3HUiduucxO%2Bizso%3D',
    );
    expect(signedUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', null, 1).search).toBe(
      '?access_token=abc',
    );
  });

  it('Feishu: Base64(HMAC-SHA256(key = timestamp + "\\n" + secret, data = empty)), timestamp in seconds', () => {
    // printf '' | openssl dgst -sha256 -hmac "$(printf '%s\n%s' 1700000000 feishu-secret-0001)" -binary | base64
    expect(feishuSign('feishu-secret-0001', 1_700_000_000)).toBe('H3/n0jBoEvvovojanoKY4WdPXn2bsEdk64I5HmaRdKc=');
  });
});

describe('DingTalk markdown', () => {
  it('says the title, each key, due soon, both links, the mobiles in the text and in `at`', () => {
    const body = renderDingtalk(message([key('alice', 213), key('bob', 80), key('carol', 5)]), ['13800000000', '@all']);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('1 access key in account prod (111111111111) is older than 90 days');
    expect(body.markdown.text).toContain('#### 🔴 1 access key in account prod (111111111111) is older than 90 days');
    expect(body.markdown.text).toMatch(
      /^- alice AKIA0213ALICEQQQQQQQ: 213 days old, <font color=#D93026>older than 90 days<\/font>$/m,
    );
    expect(body.markdown.text).toContain('1 other key turns stale within 14 days');
    expect(body.markdown.text).toContain(`[View the run](${runUrl}) | [Tracking issue #12](${issue.url})`);
    expect(body.markdown.text).toContain('@13800000000 @all');
    expect(body.markdown.text).toContain('iam-stale-keys');
    expect(body.at).toEqual({ atMobiles: ['13800000000'], isAtAll: true });
  });

  it.each(languages)('fits 500 keys in %s within its budget, saying how many more', (language) => {
    const body = renderDingtalk(message(fiveHundred(), language), ['13800000000']);
    expect(bytes(body.markdown.text)).toBeLessThanOrEqual(DINGTALK_MARKDOWN_MAX_BYTES);
    expect(body.markdown.text).toMatch(language === 'en' ? /…and \d{3} more/ : /……另有 \d{3} 个/);
    // The tail survives the cut: links, mentions.
    expect(body.markdown.text).toMatch(/\[(Tracking issue|跟踪 Issue) #12\]/);
    expect(body.markdown.text).toContain('@13800000000');
  });

  it('says an all-clear in green words, never for an incomplete scan', () => {
    expect(renderDingtalk(message([key('alice', 10)])).markdown.text).toMatch(/^#### ✅ No stale access keys/);
  });
});

describe('Feishu card', () => {
  it('is red with the keys as lark_md, buttons to the run and the issue, and the @s', () => {
    const body = renderFeishu(message([key('alice', 213), key('bob', 80)], 'zh'), ['ou_abc123', 'all']);
    expect(body.msg_type).toBe('interactive');
    expect(body.card.header).toEqual({
      title: { tag: 'plain_text', content: '账号 prod (111111111111) 有 1 个访问密钥已超过 90 天未轮换' },
      template: 'red',
    });
    const json = JSON.stringify(body.card.elements);
    expect(json).toContain('alice 的密钥 AKIA0213ALICEQQQQQQQ 已创建 213 天');
    expect(json).toContain('"tag":"button"');
    expect(json).toContain(`"url":"${issue.url}"`);
    expect(json).toContain('<at id=ou_abc123></at> <at id=all></at>');
    expect(json).toContain('iam-stale-keys');
  });

  it('is green when all is clear, orange when the scan could not see everything', () => {
    expect(renderFeishu(message([key('alice', 10)])).card.header.template).toBe('green');
    const incomplete = scanResult([key('alice', 10)]);
    incomplete.inventory.coverage = {
      ...incomplete.inventory.coverage,
      gaps: [{ what: 'x', fix: 'y', couldHideStale: true } as never],
    };
    const m = accountMessage({ result: incomplete, keyId: fullKeyId, language: 'en', runUrl, issue: null });
    expect(renderFeishu(m).card.header.template).toBe('orange');
  });

  it.each(languages)('keeps 500 keys in %s within the 20 KB body, signature included', (language) => {
    const body = renderFeishu(message(fiveHundred(), language), ['ou_abc123']);
    const signed = { timestamp: '1700000000', sign: feishuSign('s', 1_700_000_000), ...body };
    expect(bytes(JSON.stringify(signed))).toBeLessThanOrEqual(FEISHU_BODY_MAX_BYTES);
    expect(JSON.stringify(body)).toMatch(language === 'en' ? /…and \d{3} more/ : /……另有 \d{3} 个/);
  });

  it('shows names from outside as text, never as markup', () => {
    const runs = [
      {
        account: { id: '222222222222', name: 'Team <b>*bold*</b> & [x](y)' },
        result: null,
        error: 'AccessDenied <at id=all></at>',
        issue: null,
      },
    ];
    const json = JSON.stringify(renderFeishu(digestMessage({ runs, language: 'en', runUrl })).card);
    expect(json).toContain('Team &lt;b&gt;&#42;bold&#42;&lt;/b&gt; &amp; &#91;x&#93;(y)');
    expect(json).toContain('AccessDenied &lt;at id=all&gt;&lt;/at&gt;');
  });
});

describe('Slack Block Kit', () => {
  it('has a header, the keys in mrkdwn, a context line, buttons, mentions and a text fallback', () => {
    const body = renderSlack(message([key('alice', 213), key('bob', 80)]), ['U024BE7LH', 'S0614TZR7', 'here']);
    expect(body.text).toBe(':red_circle: 1 access key in account prod (111111111111) is older than 90 days');
    const types = body.blocks.map((b) => (b as { type: string }).type);
    expect(types).toEqual(['header', 'section', 'context', 'actions', 'section']);
    expect(JSON.stringify(body.blocks[1])).toContain(
      '• `alice` `AKIA0213ALICEQQQQQQQ`: 213 days old, *older than 90 days*',
    );
    expect(JSON.stringify(body.blocks[4])).toContain('<@U024BE7LH> <!subteam^S0614TZR7> <!here>');
  });

  it.each(languages)('keeps 500 keys in %s within 50 blocks and 3,000 characters a section', (language) => {
    const body = renderSlack(message(fiveHundred(), language));
    expect(body.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of body.blocks as Array<{ type: string; text?: { text: string } }>) {
      if (block.type === 'section') expect(block.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.section);
      if (block.type === 'header') expect(block.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.header);
    }
    expect(JSON.stringify(body.blocks)).toMatch(language === 'en' ? /…and \d{3} more/ : /……另有 \d{3} 个/);
  });

  it('escapes only &, < and > in text from outside, so no mention or link can form', () => {
    const runs = [
      { account: { id: '222222222222', name: 'R&D <!channel>' }, result: null, error: 'Denied <@U1|x>', issue: null },
    ];
    const json = JSON.stringify(renderSlack(digestMessage({ runs, language: 'en', runUrl })).blocks);
    expect(json).toContain('`R&amp;D &lt;!channel&gt;`');
    expect(json).toContain('Denied &lt;@U1|x&gt;');
    expect(json).not.toContain('<!channel>');
  });

  it('writes each kind of mention as Slack does', () => {
    expect(['U1', 'W2', 'S3', 'here', 'channel'].map(slackMention)).toEqual([
      '<@U1>',
      '<@W2>',
      '<!subteam^S3>',
      '<!here>',
      '<!channel>',
    ]);
  });
});

describe('owners from IAM tags in every chat', () => {
  const owned = () => {
    const result = scanResult([key('alice', 213), key('bob', 120)]);
    const tags = new Map<string, Record<string, string>>([
      [
        'alice',
        {
          owner: 'Payments <pay@example.com>',
          'iam-stale-keys:wecom': 'zhangsan',
          'iam-stale-keys:dingtalk': '13800000001',
          'iam-stale-keys:feishu': 'ou_alice0001',
          'iam-stale-keys:slack': 'U0ALICE01',
        },
      ],
      ['bob', { 'iam-stale-keys:exempt-until': '2026-12-31', 'iam-stale-keys:exempt-reason': 'vendor, SEC-12' }],
    ]);
    result.judgement = applyClaims(
      result.judgement,
      tags,
      { ownerTag: 'owner', tagPrefix: 'iam-stale-keys:', maxExemptionDays: 90 },
      result.now,
    );
    return accountMessage({ result, keyId: fullKeyId, language: 'en', runUrl, issue });
  };

  it('mentions each owner the way each chat does, with the owner text inert', () => {
    const m = owned();
    expect(renderRobotMarkdown(m)).toContain('(owner: `Payments ?pay@example.com?` <@zhangsan>)');
    const ding = renderDingtalk(m);
    expect(ding.markdown.text).toContain('(owner: Payments ?pay?example.com? @13800000001)');
    expect(ding.at.atMobiles).toEqual(['13800000001']);
    expect(JSON.stringify(renderFeishu(m).card)).toContain(
      '(owner: Payments &lt;pay@example.com&gt; <at id=ou_alice0001></at>)',
    );
    expect(JSON.stringify(renderSlack(m).blocks)).toContain('(owner: Payments &lt;pay@example.com&gt; <@U0ALICE01>)');
  });

  it('says how many stale keys are exempted, and lists only the others', () => {
    const m = owned();
    expect(m.lists[0]!.items).toHaveLength(1);
    expect(m.notes).toEqual(["1 stale key is exempted until a date by their user's tags"]);
    expect(
      renderSlack(m)
        .blocks.map((b) => JSON.stringify(b))
        .join('\n'),
    ).toContain('1 stale key is exempted');
  });
});
