import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/account/judge.js';
import { fullKeyId, redactKeyId } from '../../src/render/present.js';
import type { ScanResult } from '../../src/account/result.js';
import {
  appText,
  mentionText,
  robotMarkdown,
  robotMentions,
  ROBOT_MARKDOWN_MAX_BYTES,
  TEXT_MAX_BYTES,
  type WecomMessageInput,
} from '../../src/notifications/wecom/render.js';
import type { Language } from '../../src/notifications/message.js';
import { ROOT_USER, type AccessKey, type Gap } from '../../src/model.js';
import { daysAgo, key, policy, scanResult } from '../helpers/scan-fixtures.js';

const runUrl = 'https://github.com/acme/infra/actions/runs/42';
const issue = { number: 12, url: 'https://github.com/acme/infra/issues/12' };

const result = (keys: AccessKey[], p: Policy = policy, userCount?: number): ScanResult =>
  scanResult(keys, { policy: p, userCount });

function input(r: ScanResult, language: Language, over: Partial<WecomMessageInput> = {}): WecomMessageInput {
  return { result: r, keyId: redactKeyId, language, runUrl, issue, ...over };
}

/** Three stale keys (IDs ending WXYZ, ABCD, EFGH) and two due soon. */
const three = (): AccessKey[] => [
  key('alice', 213, { accessKeyId: 'AKIAIOSFODNN7EXAWXYZ' }),
  key('bob', 120, { accessKeyId: 'AKIAJ5Q7R2D9EXAMABCD' }),
  key('carol', 95, { accessKeyId: 'AKIAZZZ3EXAMPLE1EFGH' }),
  key('dave', 80),
  key('erin', 78),
  key('frank', 10),
];

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Whole characters only: a cut code point would not survive decoding and re-encoding. */
function expectWholeCharacters(s: string): void {
  const decoded = Buffer.from(s, 'utf8').toString('utf8');
  expect(decoded).toBe(s);
  expect(decoded).not.toContain('\uFFFD');
}

describe('robotMarkdown', () => {
  it('lists stale keys oldest first, the due-soon count and the links, in Chinese', () => {
    expect(robotMarkdown(input(result(three()), 'zh')).split('\n')).toEqual([
      '**账号 prod (111111111111) 有 3 个访问密钥已超过 90 天未轮换**',
      '>`alice` 的密钥 `AKIA…WXYZ` 已创建 213 天，<font color="warning">超过 90 天未轮换</font>',
      '>`bob` 的密钥 `AKIA…ABCD` 已创建 120 天，<font color="warning">超过 90 天未轮换</font>',
      '>`carol` 的密钥 `AKIA…EFGH` 已创建 95 天，<font color="warning">超过 90 天未轮换</font>',
      '<font color="comment">另有 2 个密钥将在 14 天内到期</font>',
      `[查看运行记录](${runUrl})`,
      `[跟踪 Issue #12](${issue.url})`,
    ]);
  });

  it('reads the same in English', () => {
    expect(robotMarkdown(input(result(three()), 'en')).split('\n')).toEqual([
      '**3 access keys in account prod (111111111111) are older than 90 days**',
      '>`alice` `AKIA…WXYZ`: 213 days old, <font color="warning">older than 90 days</font>',
      '>`bob` `AKIA…ABCD`: 120 days old, <font color="warning">older than 90 days</font>',
      '>`carol` `AKIA…EFGH`: 95 days old, <font color="warning">older than 90 days</font>',
      '<font color="comment">2 other keys turn stale within 14 days</font>',
      `[View the run](${runUrl})`,
      `[Tracking issue #12](${issue.url})`,
    ]);
  });

  it('shows full key IDs when asked and leaves out links it does not have', () => {
    const md = robotMarkdown(input(result([key('alice', 213)]), 'en', { keyId: fullKeyId, runUrl: null, issue: null }));
    expect(md).toBe(
      '**1 access key in account prod (111111111111) is older than 90 days**\n' +
        '>`alice` `AKIA0213ALICEQQQQQQQ`: 213 days old, <font color="warning">older than 90 days</font>',
    );
  });

  it('puts root keys first and breaks mixed reasons down', () => {
    const p = { ...policy, maxUnusedDays: 45 };
    const keys = [
      key('alice', 100),
      key('idle', 60, { lastUsedDate: daysAgo(50) }),
      key(ROOT_USER, 0, { root: true, accessKeyId: null, createDate: null, lastUsedDate: null }),
    ];
    const zh = robotMarkdown(input(result(keys, p), 'zh')).split('\n');
    expect(zh.slice(0, 4)).toEqual([
      '**账号 prod (111111111111) 有 3 个过期的访问密钥：1 个属于根用户，1 个超过 90 天未轮换，1 个超过 45 天未使用**',
      '>根用户的密钥（ID 未知）创建时间未知，<font color="warning">根用户密钥（应删除）</font>',
      '>`alice` 的密钥 `AKIA…QQQQ` 已创建 100 天，<font color="warning">超过 90 天未轮换</font>',
      '>`idle` 的密钥 `AKIA…QQQQ` 已创建 60 天，<font color="warning">已 50 天未使用</font>',
    ]);
    const en = robotMarkdown(input(result(keys, p), 'en')).split('\n');
    expect(en.slice(0, 4)).toEqual([
      '**3 access keys in account prod (111111111111) are stale: 1 of the root user, 1 older than 90 days, 1 unused for 45 days or more**',
      '>root user (ID unknown): age unknown, <font color="warning">root user key</font>',
      '>`alice` `AKIA…QQQQ`: 100 days old, <font color="warning">older than 90 days</font>',
      '>`idle` `AKIA…QQQQ`: 60 days old, <font color="warning">unused for 45+ days</font>',
    ]);
  });

  it('names every reason of a key and says when only the root user is at fault', () => {
    const root = key(ROOT_USER, 400, { root: true, accessKeyId: 'AKIAROOTROOTROOT1234' });
    const zh = robotMarkdown(input(result([root]), 'zh'));
    expect(zh).toContain('**账号 prod (111111111111) 的根用户有 1 个访问密钥，应当删除**');
    expect(zh).toContain(
      '>根用户的密钥 `AKIA…1234` 已创建 400 天，<font color="warning">根用户密钥（应删除），超过 90 天未轮换</font>',
    );
    expect(robotMarkdown(input(result([root]), 'en'))).toContain(
      '>root user `AKIA…1234`: 400 days old, <font color="warning">root user key, older than 90 days</font>',
    );
  });

  it('says all clear with the counts, and the due-soon keys', () => {
    const clear = result([key('dave', 80), key('frank', 10), key('frank', 11)], policy, 120);
    expect(robotMarkdown(input(clear, 'zh', { issue: null })).split('\n')).toEqual([
      '<font color="info">**账号 prod (111111111111) 没有过期的访问密钥（已检查 120 个用户、3 个密钥）**</font>',
      '<font color="comment">有 1 个密钥将在 14 天内到期</font>',
      `[查看运行记录](${runUrl})`,
    ]);
    expect(robotMarkdown(input(clear, 'en', { runUrl: null, issue: null })).split('\n')).toEqual([
      '<font color="info">**No stale access keys in account prod (111111111111): checked 120 users and 3 keys**</font>',
      '<font color="comment">1 key turns stale within 14 days</font>',
    ]);
  });

  it('puts user names in inline code as they are, since WeCom markdown has no escapes', () => {
    const names = ['svc_data_pipeline', 'first.last@example.com', 'ci+deploy=prod,eu'];
    const keys = names.map((n, i) => key(n, 100 + i, { accessKeyId: `AKIAEXAMPLE00000000${i}` }));
    const md = robotMarkdown(input(result(keys), 'en', { runUrl: null, issue: null }));
    expect(md.split('\n').slice(1)).toEqual([
      '>`ci+deploy=prod,eu` `AKIA…0002`: 102 days old, <font color="warning">older than 90 days</font>',
      '>`first.last@example.com` `AKIA…0001`: 101 days old, <font color="warning">older than 90 days</font>',
      '>`svc_data_pipeline` `AKIA…0000`: 100 days old, <font color="warning">older than 90 days</font>',
    ]);
    expect(md).not.toContain('\\');
  });

  it('makes names IAM could never give inert: no link, font, mention or broken code span forms', () => {
    const names = ['[x](https://evil.example)', '<font color="info">ok</font>', 'a`b', '<@all>', 'line\nbreak'];
    const keys = names.map((n, i) => key(n, 100 + i, { accessKeyId: `AKIAEXAMPLE00000000${i}` }));
    const md = robotMarkdown(input(result(keys), 'en', { runUrl: null, issue: null }));
    expect(md.split('\n').map((line) => line.split(' `AKIA')[0])).toEqual([
      '**5 access keys in account prod (111111111111) are older than 90 days**',
      '>`line?break`',
      '>`?@all?`',
      '>`a?b`',
      '>`?font?color=?info??ok??font?`',
      '>`?x??https???evil.example?`',
    ]);
    expect(md).not.toMatch(/\]\(|<font color="info">|<@/);
  });

  it.each(['zh', 'en'] as const)('stays within 4096 bytes with 500 long names in %s and says how many more', (lang) => {
    const long = (i: number) => `${'svc_deploy-'.repeat(6)}${String(i).padStart(4, '0')}`.slice(-64);
    const keys = Array.from({ length: 500 }, (_, i) =>
      key(long(i), 100 + i, { accessKeyId: `AKIA${i}`.padEnd(20, 'X') }),
    );
    const md = robotMarkdown(input(result(keys), lang));

    expect(long(7)).toHaveLength(64);
    expect(bytes(md)).toBeLessThanOrEqual(ROBOT_MARKDOWN_MAX_BYTES);
    expect(bytes(md)).toBeGreaterThan(ROBOT_MARKDOWN_MAX_BYTES - 300);
    expectWholeCharacters(md);
    const shown = md.split('\n').filter((l) => l.startsWith('>')).length;
    const more = lang === 'zh' ? `……另有 ${500 - shown} 个` : `…and ${500 - shown} more`;
    expect(md).toContain(`<font color="comment">${more}</font>`);
    expect(md.endsWith(`[${lang === 'zh' ? '跟踪 Issue #12' : 'Tracking issue #12'}](${issue.url})`)).toBe(true);
  });

  it('never passes a small budget, cutting nothing mid-character', () => {
    const keys = Array.from({ length: 50 }, (_, i) => key(`用户${i}`, 100 + i));
    for (const max of [600, 301, 150, 40, 7]) {
      const md = robotMarkdown(input(result(keys), 'zh'), max);
      expect(bytes(md)).toBeLessThanOrEqual(max);
      expectWholeCharacters(md);
    }
  });
});

describe('an incomplete scan', () => {
  const rootGap: Gap = {
    what: 'Root access keys were not checked (iam:GetAccountSummary was denied)',
    fix: 'Grant iam:GetAccountSummary',
    couldHideStale: true,
  };
  const note: Gap = { what: 'Inactive keys were not listed', fix: 'Nothing to do', couldHideStale: false };
  function incomplete(keys: AccessKey[], gaps: Gap[] = [rootGap]): ScanResult {
    const r = result(keys, policy, 120);
    r.inventory.coverage = { ...r.inventory.coverage, gaps, rootChecked: false };
    return r;
  }

  it('never gives the all-clear: says the scan is incomplete and how many checks could not be made', () => {
    const r = incomplete([key('dave', 80), key('frank', 10)]);
    expect(robotMarkdown(input(r, 'en', { issue: null })).split('\n')).toEqual([
      '**The scan of account prod (111111111111) is incomplete, so stale keys may be missing**',
      '<font color="warning">No stale access keys among 120 users and 2 keys checked, but 1 check could not be made; the run\'s summary says how to fix it</font>',
      '<font color="comment">1 key turns stale within 14 days</font>',
      `[View the run](${runUrl})`,
    ]);
    expect(robotMarkdown(input(r, 'zh', { issue: null })).split('\n')).toEqual([
      '**账号 prod (111111111111) 的扫描不完整，可能遗漏了过期的访问密钥**',
      '<font color="warning">已检查 120 个用户、2 个密钥，没有发现过期的访问密钥；但有 1 项未能检查，修复方法见运行记录的摘要</font>',
      '<font color="comment">有 1 个密钥将在 14 天内到期</font>',
      `[查看运行记录](${runUrl})`,
    ]);
    expect(appText(input(r, 'en'))).not.toContain('No stale access keys in account');
  });

  it('says under the stale keys that more may be missing', () => {
    const r = incomplete(three(), [rootGap, { ...rootGap, what: 'Users could not be listed' }]);
    const en = robotMarkdown(input(r, 'en')).split('\n');
    expect(en.slice(0, 3)).toEqual([
      '**3 access keys in account prod (111111111111) are older than 90 days**',
      '<font color="warning">The scan is incomplete, so more stale keys may be missing: 2 checks could not be made; the run\'s summary says how to fix them</font>',
      '>`alice` `AKIA…WXYZ`: 213 days old, <font color="warning">older than 90 days</font>',
    ]);
    expect(robotMarkdown(input(r, 'zh')).split('\n')[1]).toBe(
      '<font color="warning">扫描不完整，可能还有未发现的过期密钥：2 项未能检查，修复方法见运行记录的摘要</font>',
    );
  });

  it('keeps the all-clear for a gap in which no stale key could hide', () => {
    expect(robotMarkdown(input(incomplete([key('frank', 10)], [note]), 'en'))).toMatch(
      /^<font color="info">\*\*No stale access keys in account prod/,
    );
  });

  it('asks @all to look at the scan rather than saying all clear', () => {
    const r = incomplete([key('frank', 10)]);
    expect(mentionText('en', r)).toBe(
      'The scan of account prod (111111111111) is incomplete, so stale keys may be missing.',
    );
    expect(mentionText('zh', r)).toBe('账号 prod (111111111111) 的扫描不完整，可能遗漏了过期的访问密钥。');
  });
});

describe('mentions in robot markdown', () => {
  it('ends the message with a <@userid> for each member, once', () => {
    const md = robotMarkdown(input(result(three()), 'zh', { mentions: ['zhangsan', 'li.si', 'zhangsan'] }));
    expect(md.split('\n').at(-1)).toBe('<@zhangsan> <@li.si>');
    expect(md.split('\n').at(-2)).toBe(`[跟踪 Issue #12](${issue.url})`);
  });

  it('says nothing more when nobody is to be mentioned', () => {
    expect(robotMarkdown(input(result(three()), 'en', { mentions: [] }))).toBe(
      robotMarkdown(input(result(three()), 'en')),
    );
  });

  it('counts the mentions in the 4096 bytes and keeps them when key lines must go', () => {
    const mentions = Array.from({ length: 20 }, (_, i) => `member.${String(i).padStart(2, '0')}.${'x'.repeat(48)}`);
    const keys = Array.from({ length: 500 }, (_, i) => key(`svc-${i}`, 100 + i));
    for (const lang of ['en', 'zh'] as const) {
      const md = robotMarkdown(input(result(keys), lang, { mentions }));
      expect(bytes(md)).toBeLessThanOrEqual(ROBOT_MARKDOWN_MAX_BYTES);
      expect(bytes(md)).toBeGreaterThan(ROBOT_MARKDOWN_MAX_BYTES - 300);
      expect(md.split('\n').at(-1)).toBe(mentions.map((m) => `<@${m}>`).join(' '));
      expect(md).toMatch(lang === 'zh' ? /……另有 \d+ 个/ : /…and \d+ more/);
    }
  });

  it('puts no mention in plain app text', () => {
    expect(appText(input(result(three()), 'en', { mentions: ['zhangsan'] }))).not.toContain('zhangsan');
  });
});

describe('robotMentions', () => {
  it('mentions members in the markdown and @all by a text message', () => {
    expect(robotMentions(['zhangsan', '@all', 'lisi', 'zhangsan'])).toEqual({
      inMarkdown: ['zhangsan', 'lisi'],
      everyone: true,
    });
    expect(robotMentions(['zhangsan'])).toEqual({ inMarkdown: ['zhangsan'], everyone: false });
    expect(robotMentions([])).toEqual({ inMarkdown: [], everyone: false });
  });
});

describe('numbers and names', () => {
  const many = (n: number, over: Partial<AccessKey> = {}) =>
    Array.from({ length: n }, (_, i) => key(`user-${i}`, 1_200 + (i % 50), over));

  it('writes thousands with separators in both languages', () => {
    const p = { ...policy, maxAgeDays: 1_000, warnDays: 1_500 };
    const keys = [...many(1_234), key('fresh', 10)];
    const en = robotMarkdown(input(result(keys, p, 2_500), 'en', { runUrl: null, issue: null }));
    expect(en.split('\n')[0]).toBe('**1,234 access keys in account prod (111111111111) are older than 1,000 days**');
    expect(en.split('\n')[1]).toMatch(
      /^>`user-\d+` `AKIA…QQQQ`: 1,249 days old, <font color="warning">older than 1,000 days<\/font>$/,
    );
    expect(en).toContain('1 other key turns stale within 1,500 days');
    expect(en).toMatch(/…and \d{1},\d{3} more/);
    const zh = robotMarkdown(input(result(keys, p, 2_500), 'zh', { runUrl: null, issue: null }));
    expect(zh.split('\n')[0]).toBe('**账号 prod (111111111111) 有 1,234 个访问密钥已超过 1,000 天未轮换**');
    expect(zh).toContain('已创建 1,249 天，<font color="warning">超过 1,000 天未轮换</font>');
    expect(zh).toContain('另有 1 个密钥将在 1,500 天内到期');
    const clear = robotMarkdown(input(result([key('fresh', 10)], p, 2_500), 'en', { runUrl: null, issue: null }));
    expect(clear).toContain('checked 2,500 users and 1 key');
  });

  it('says one day, one key, one user in the singular', () => {
    const p = { ...policy, maxAgeDays: 1, warnDays: 1, maxUnusedDays: 1 };
    const one = robotMarkdown(input(result([key('alice', 1, { lastUsedDate: daysAgo(0) })], p), 'en'));
    expect(one).toContain('**1 access key in account prod (111111111111) is older than 1 day**');
    expect(one).toContain(': 1 day old, <font color="warning">older than 1 day</font>');
    const idle = robotMarkdown(
      input(result([key('bob', 0, { lastUsedDate: daysAgo(3) })], { ...p, maxAgeDays: 90 }), 'en'),
    );
    expect(idle).toContain('**1 access key in account prod (111111111111) is unused for 1 day or more**');
    const clear = robotMarkdown(input(result([key('carol', 89)], { ...p, maxAgeDays: 90, maxUnusedDays: 0 }, 1), 'en'));
    expect(clear).toContain('checked 1 user and 1 key');
    expect(clear).toContain('1 key turns stale within 1 day');
  });

  it('calls the root user "root user" and “根用户” everywhere, never by its IAM name', () => {
    const root = key(ROOT_USER, 400, { root: true, accessKeyId: null });
    const mixed = [root, key('alice', 100)];
    const en = [robotMarkdown(input(result(mixed), 'en')), appText(input(result(mixed), 'en'))].join('\n');
    const zh = [robotMarkdown(input(result(mixed), 'zh')), appText(input(result(mixed), 'zh'))].join('\n');
    expect(en).toContain('are stale: 1 of the root user, 1 older than 90 days');
    expect(en).toContain(
      '>root user (ID unknown): 400 days old, <font color="warning">root user key, older than 90 days</font>',
    );
    expect(zh).toContain('1 个属于根用户');
    expect(zh).toContain(
      '>根用户的密钥（ID 未知）已创建 400 天，<font color="warning">根用户密钥（应删除），超过 90 天未轮换</font>',
    );
    for (const text of [en, zh]) {
      expect(text).not.toMatch(/root_account|root account|根账号|root access key/);
    }
  });
});

describe('appText', () => {
  it('is plain text with the same content', () => {
    expect(appText(input(result(three()), 'zh')).split('\n')).toEqual([
      '账号 prod (111111111111) 有 3 个访问密钥已超过 90 天未轮换',
      '- alice 的密钥 AKIA…WXYZ 已创建 213 天，超过 90 天未轮换',
      '- bob 的密钥 AKIA…ABCD 已创建 120 天，超过 90 天未轮换',
      '- carol 的密钥 AKIA…EFGH 已创建 95 天，超过 90 天未轮换',
      '另有 2 个密钥将在 14 天内到期',
      `查看运行记录：${runUrl}`,
      `跟踪 Issue #12：${issue.url}`,
    ]);
    expect(appText(input(result(three()), 'en'))).toContain(`- alice AKIA…WXYZ: 213 days old, older than 90 days\n`);
    expect(appText(input(result(three()), 'en'))).toContain(`\nView the run: ${runUrl}\n`);
  });

  it.each(['zh', 'en'] as const)('stays within 2048 bytes in %s', (lang) => {
    const keys = Array.from({ length: 500 }, (_, i) => key(`用户-${'名'.repeat(20)}-${i}`, 100 + i));
    const text = appText(input(result(keys), lang));
    expect(bytes(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
    expect(bytes(text)).toBeGreaterThan(TEXT_MAX_BYTES - 200);
    expectWholeCharacters(text);
    expect(text).toMatch(lang === 'zh' ? /\n……另有 \d+ 个\n/ : /\n…and \d+ more\n/);
    expect(text).not.toMatch(/<font|\*\*|\]\(/);
  });
});

describe('mentionText', () => {
  it('asks for rotation in either language', () => {
    const r = result(three());
    expect(mentionText('en', r)).toBe('Please rotate the stale access keys in account prod (111111111111).');
    expect(mentionText('zh', r)).toBe('请尽快轮换账号 prod (111111111111) 中过期的访问密钥。');
  });

  it('says all clear when nothing is stale', () => {
    expect(mentionText('zh', result([key('frank', 10)]))).toBe(
      '账号 prod (111111111111) 没有过期的访问密钥（已检查 1 个用户、1 个密钥）',
    );
  });
});
