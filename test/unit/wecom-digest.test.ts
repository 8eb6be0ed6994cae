import { describe, expect, it } from 'vitest';
import {
  appDigest,
  digestMentionText,
  robotDigest,
  ROBOT_MARKDOWN_MAX_BYTES,
  TEXT_MAX_BYTES,
  type WecomDigestInput as DigestInput,
} from '../../src/notifications/wecom/render.js';
import { digestTotals, type Language } from '../../src/notifications/message.js';
import type { AccessKey, Gap } from '../../src/model.js';
import type { AccountRun } from '../../src/run/overview.js';
import { key, scanResult } from '../helpers/scan-fixtures.js';

const runUrl = 'https://github.com/acme/security/actions/runs/42';
const issueUrl = (n: number) => `https://github.com/acme/security/issues/${n}`;
const rootGap: Gap = {
  what: 'Root access keys were not checked (iam:GetAccountSummary was denied)',
  fix: 'Grant iam:GetAccountSummary',
  couldHideStale: true,
};
const denied =
  'Could not assume role arn:aws:iam::333333333333:role/iam-stale-keys: Not authorized. Check its trust policy.';

interface Shape {
  alias?: string | null;
  name?: string | null;
  stale?: number;
  due?: number;
  fresh?: number;
  gaps?: Gap[];
  issue?: number;
}

/** One account of a run, as src/run/overview.ts has it: `stale` keys 100+ days old, `due` 80 days old. */
function scanned(id: string, shape: Shape = {}): AccountRun {
  const keys: AccessKey[] = [
    ...Array.from({ length: shape.stale ?? 0 }, (_, i) => key(`old-${i}`, 100 + i)),
    ...Array.from({ length: shape.due ?? 0 }, (_, i) => key(`due-${i}`, 80)),
    ...Array.from({ length: shape.fresh ?? 1 }, (_, i) => key(`fresh-${i}`, 10)),
  ];
  const result = scanResult(keys, { alias: shape.alias === undefined ? null : shape.alias, userCount: 10 });
  result.account = { ...result.account, id };
  if (shape.gaps) result.inventory.coverage = { ...result.inventory.coverage, gaps: shape.gaps, rootChecked: false };
  const issue = shape.issue ? { action: 'updated', number: shape.issue, url: issueUrl(shape.issue) } : null;
  return { account: { id, name: shape.name ?? null }, result, error: null, issue };
}

function failed(id: string, error: string | null = denied, name: string | null = null): AccountRun {
  return { account: { id, name }, result: null, error, issue: null };
}

function input(runs: AccountRun[], language: Language, over: Partial<DigestInput> = {}): DigestInput {
  return { runs, language, runUrl, ...over };
}

/** Five accounts: two with stale keys (one scanned incompletely), one incomplete, one clean, one not scanned. */
const mixed = (): AccountRun[] => [
  scanned('555555555555', { alias: 'dev' }),
  failed('333333333333', denied, 'Sandbox'),
  scanned('444444444444', { alias: 'legacy', due: 1, gaps: [rootGap] }),
  scanned('222222222222', { name: 'Data Lake (EU)', stale: 1, gaps: [rootGap] }),
  scanned('111111111111', { alias: 'prod', name: 'Production', stale: 5, due: 2, issue: 12 }),
];

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function expectWholeCharacters(s: string): void {
  expect(Buffer.from(s, 'utf8').toString('utf8')).toBe(s);
  expect(s).not.toContain('\uFFFD');
}

describe('robotDigest', () => {
  it('gives the totals, the accounts with stale keys most first, then those not fully scanned, in English', () => {
    expect(robotDigest(input(mixed(), 'en', { mentions: ['zhangsan', 'lisi'] })).split('\n')).toEqual([
      '**6 access keys are stale in 2 of 5 accounts**',
      '<font color="warning">Stale keys may be missing: 1 account could not be scanned, and 2 scans were incomplete</font>',
      `>\`prod\` (111111111111): <font color="warning">5 stale keys</font>, 2 due soon, [Tracking issue #12](${issueUrl(12)})`,
      '>`Data Lake (EU)` (222222222222): <font color="warning">1 stale key</font>, scan incomplete',
      '>`Sandbox` (333333333333): <font color="warning">could not be scanned: Could not assume role arn:aws:iam::333333333333:role/iam-stale-keys: Not authorized</font>',
      '>`legacy` (444444444444): <font color="warning">scan incomplete: 1 check could not be made</font>',
      '<font color="comment">3 other keys turn stale within 14 days</font>',
      `[View the run](${runUrl})`,
      '<@zhangsan> <@lisi>',
    ]);
  });

  it('reads the same in Chinese', () => {
    expect(robotDigest(input(mixed(), 'zh', { mentions: ['zhangsan', 'lisi'] })).split('\n')).toEqual([
      '**5 个账号中有 2 个存在过期的访问密钥，共 6 个**',
      '<font color="warning">可能遗漏了过期的访问密钥：1 个账号未能扫描，2 个账号扫描不完整</font>',
      `>\`prod\` (111111111111)：<font color="warning">5 个过期密钥</font>，2 个即将到期，[跟踪 Issue #12](${issueUrl(12)})`,
      '>`Data Lake (EU)` (222222222222)：<font color="warning">1 个过期密钥</font>，扫描不完整',
      '>`Sandbox` (333333333333)：<font color="warning">未能扫描：Could not assume role arn:aws:iam::333333333333:role/iam-stale-keys: Not authorized</font>',
      '>`legacy` (444444444444)：<font color="warning">扫描不完整：1 项未能检查</font>',
      '<font color="comment">另有 3 个密钥将在 14 天内到期</font>',
      `[查看运行记录](${runUrl})`,
      '<@zhangsan> <@lisi>',
    ]);
  });

  it('never gives an all-clear while an account could not be scanned or was scanned incompletely', () => {
    const runs = [scanned('111111111111', { alias: 'prod' }), failed('222222222222', 'Throttling: Rate exceeded')];
    expect(robotDigest(input(runs, 'en', { runUrl: null })).split('\n')).toEqual([
      '**Stale keys may be missing: 1 account could not be scanned**',
      '<font color="comment">No stale access keys among those checked: 1 account, 10 users and 1 key</font>',
      '>222222222222: <font color="warning">could not be scanned: Throttling: Rate exceeded</font>',
    ]);
    const incomplete = [scanned('111111111111', { alias: 'prod', gaps: [rootGap] })];
    expect(robotDigest(input(incomplete, 'zh', { runUrl: null })).split('\n')).toEqual([
      '**可能遗漏了过期的访问密钥：1 个账号扫描不完整**',
      '<font color="comment">已检查的 1 个账号（10 个用户、1 个密钥）中没有过期的访问密钥</font>',
      '>`prod` (111111111111)：<font color="warning">扫描不完整：1 项未能检查</font>',
    ]);
    const nothingScanned = [failed('111111111111'), failed('222222222222')];
    expect(robotDigest(input(nothingScanned, 'en', { runUrl: null })).split('\n')[0]).toBe(
      '**Stale keys may be missing: 2 accounts could not be scanned**',
    );
    for (const runs of [mixed(), nothingScanned, incomplete]) {
      for (const lang of ['en', 'zh'] as const) {
        expect(robotDigest(input(runs, lang))).not.toMatch(/color="info"|No stale access keys in|都没有/);
      }
    }
  });

  it('gives the all-clear, with what was checked, when every account was scanned completely', () => {
    const runs = [scanned('111111111111', { alias: 'prod', due: 2 }), scanned('222222222222')];
    expect(robotDigest(input(runs, 'en')).split('\n')).toEqual([
      '<font color="info">**No stale access keys in 2 accounts: checked 20 users and 4 keys**</font>',
      '<font color="comment">2 keys turn stale within 14 days</font>',
      `[View the run](${runUrl})`,
    ]);
    expect(robotDigest(input(runs, 'zh')).split('\n')[0]).toBe(
      '<font color="info">**2 个账号都没有过期的访问密钥（已检查 20 个用户、4 个密钥）**</font>',
    );
  });

  it('says "in N accounts" when every account has stale keys', () => {
    const runs = [scanned('111111111111', { stale: 2 }), scanned('222222222222', { stale: 1 })];
    expect(robotDigest(input(runs, 'en')).split('\n')[0]).toBe('**3 access keys are stale in 2 accounts**');
    expect(robotDigest(input(runs, 'zh')).split('\n')[0]).toBe('**2 个账号共有 3 个过期的访问密钥**');
    expect(robotDigest(input([scanned('111111111111', { stale: 1 })], 'en')).split('\n')[0]).toBe(
      '**1 access key is stale in 1 account**',
    );
  });

  it('orders accounts by stale keys, then due-soon keys, then ID; those not scanned before the incomplete', () => {
    const runs = [
      scanned('100000000001', { stale: 1 }),
      scanned('100000000002', { stale: 3 }),
      scanned('100000000003', { stale: 1, due: 2 }),
      scanned('100000000000', { stale: 1 }),
      scanned('900000000000', { gaps: [rootGap] }),
      failed('800000000000'),
    ];
    const ids = robotDigest(input(runs, 'en'))
      .split('\n')
      .filter((l) => l.startsWith('>'))
      .map((l) => /\d{12}/.exec(l)?.[0]);
    expect(ids).toEqual([
      '100000000002',
      '100000000003',
      '100000000000',
      '100000000001',
      '800000000000',
      '900000000000',
    ]);
  });

  it('names an account by its alias, else its name in the organisation, else its ID', () => {
    const lines = robotDigest(
      input(
        [
          scanned('111111111111', { alias: 'prod', name: 'Production', stale: 3 }),
          scanned('222222222222', { name: 'Data Lake', stale: 2 }),
          scanned('333333333333', { stale: 1 }),
        ],
        'en',
      ),
    ).split('\n');
    expect(lines.slice(1, 4).map((l) => l.split(': ')[0])).toEqual([
      '>`prod` (111111111111)',
      '>`Data Lake` (222222222222)',
      '>333333333333',
    ]);
  });

  it('links an account to its tracking issue only when it has one', () => {
    const runs = [
      scanned('111111111111', { stale: 2, issue: 7 }),
      { ...scanned('222222222222', { stale: 1 }), issue: { action: 'failed', number: null, url: null } },
    ];
    const md = robotDigest(input(runs, 'en', { runUrl: null }));
    expect(md).toContain(
      `>111111111111: <font color="warning">2 stale keys</font>, [Tracking issue #7](${issueUrl(7)})`,
    );
    expect(md.split('\n')).toContain('>222222222222: <font color="warning">1 stale key</font>');
  });

  it('makes names and reasons from outside inert: no code span ends, no link, font or mention forms', () => {
    const runs = [
      scanned('111111111111', { name: 'a`b <@all> [x](https://evil.example) <font color="info">', stale: 1 }),
      failed('222222222222', 'Bad `thing` <@all> **bold** [x](https://evil.example)\nsecond line', 'ok'),
    ];
    const md = robotDigest(input(runs, 'en', { runUrl: null }));
    expect(md.split('\n').slice(2)).toEqual([
      '>`a?b ?@all? ?x?(https://evil.example) ?font color=?info??` (111111111111): <font color="warning">1 stale key</font>',
      '>`ok` (222222222222): <font color="warning">could not be scanned: Bad ?thing? ?@all? ??bold?? ?x?(https://evil.example) second line</font>',
    ]);
    expect(md).not.toMatch(/\]\(https:\/\/evil|<@|<font color="info"/);
  });

  it('keeps a reason short: its first sentence, at most 100 characters', () => {
    const long = `Could not assume role arn:aws:iam::222222222222:role/${'x'.repeat(120)}: Not authorized. Fix it.`;
    const md = robotDigest(input([failed('222222222222', long), failed('333333333333', null)], 'en'));
    const reasons = md
      .split('\n')
      .filter((l) => l.startsWith('>'))
      .map((l) => /could not be scanned: (.*)<\/font>/.exec(l)?.[1]);
    expect(reasons[0]).toHaveLength(100);
    expect(reasons[0]).toMatch(/^Could not assume role arn:aws:iam::222222222222:role\/x+…$/);
    expect(reasons[1]).toBe('unknown error');
  });

  describe('1,000 accounts within 4096 bytes', () => {
    /** 600 with stale keys, 300 clean, 60 not scanned, 40 incomplete; long names and reasons. */
    function thousand(): AccountRun[] {
      const name = (i: number) => `Business Unit ${String(i).padStart(4, '0')} - Payments Platform (prod)`.slice(0, 50);
      const id = (i: number) => String(100_000_000_000 + i);
      return Array.from({ length: 1_000 }, (_, i) => {
        if (i < 600) return scanned(id(i), { name: name(i), stale: 1 + (i % 7), due: i % 3, issue: 1_000 + i });
        if (i < 900) return scanned(id(i), { name: name(i), due: i % 2 });
        if (i < 960) return failed(id(i), `${denied.replace('333333333333', id(i))} (AccessDenied)`, name(i));
        return scanned(id(i), { name: name(i), gaps: [rootGap] });
      });
    }
    const mentions = Array.from({ length: 5 }, (_, i) => `member.${i}.${'x'.repeat(40)}`);

    it.each(['en', 'zh'] as const)('in %s: the totals exact, both lists cut with how many more', (lang) => {
      const runs = thousand();
      const md = robotDigest(input(runs, lang, { mentions }));
      const lines = md.split('\n');

      expect(bytes(md)).toBeLessThanOrEqual(ROBOT_MARKDOWN_MAX_BYTES);
      expect(bytes(md)).toBeGreaterThan(ROBOT_MARKDOWN_MAX_BYTES - 300);
      expectWholeCharacters(md);
      const t = digestTotals(runs);
      expect(t).toMatchObject({ accounts: 1_000, withStale: 600, failed: 60, incomplete: 40, staleKeys: 2_395 });
      expect(lines.slice(0, 2)).toEqual(
        lang === 'en'
          ? [
              '**2,395 access keys are stale in 600 of 1,000 accounts**',
              '<font color="warning">Stale keys may be missing: 60 accounts could not be scanned, and 40 scans were incomplete</font>',
            ]
          : [
              '**1,000 个账号中有 600 个存在过期的访问密钥，共 2,395 个**',
              '<font color="warning">可能遗漏了过期的访问密钥：60 个账号未能扫描，40 个账号扫描不完整</font>',
            ],
      );
      const staleShown = lines.filter((l) => /stale keys?<\/font>|个过期密钥<\/font>/.test(l)).length;
      const problemsShown = lines.filter((l) =>
        /could not be scanned:|scan incomplete:|未能扫描：|扫描不完整：/.test(l),
      ).length;
      expect(staleShown).toBeGreaterThan(5);
      expect(problemsShown).toBeGreaterThan(5);
      const more = (n: number) =>
        `<font color="comment">${lang === 'en' ? `…and ${n} more accounts` : `……另有 ${n} 个账号`}</font>`;
      expect(lines).toContain(more(600 - staleShown));
      expect(lines).toContain(more(100 - problemsShown));
      // The worst come first: the stale list starts with accounts of 7 stale keys.
      expect(lines[2]).toMatch(lang === 'en' ? /7 stale keys/ : /7 个过期密钥/);
      expect(lines.at(-2)).toBe(`[${lang === 'en' ? 'View the run' : '查看运行记录'}](${runUrl})`);
      expect(lines.at(-1)).toBe(mentions.map((m) => `<@${m}>`).join(' '));
    });

    it.each(['en', 'zh'] as const)('in %s: a thousand accounts that could not be scanned', (lang) => {
      const runs = Array.from({ length: 1_000 }, (_, i) => failed(String(200_000_000_000 + i), `${denied} (${i})`));
      const md = robotDigest(input(runs, lang));
      expect(bytes(md)).toBeLessThanOrEqual(ROBOT_MARKDOWN_MAX_BYTES);
      expect(bytes(md)).toBeGreaterThan(ROBOT_MARKDOWN_MAX_BYTES - 300);
      const shown = md.split('\n').filter((l) => l.startsWith('>')).length;
      expect(md).toContain(lang === 'en' ? `…and ${1_000 - shown} more accounts` : `……另有 ${1_000 - shown} 个账号`);
      expect(md.split('\n')[0]).toBe(
        lang === 'en'
          ? '**Stale keys may be missing: 1,000 accounts could not be scanned**'
          : '**可能遗漏了过期的访问密钥：1,000 个账号未能扫描**',
      );
    });

    it.each(['en', 'zh'] as const)('in %s: plain app text within 2048 bytes', (lang) => {
      const text = appDigest(input(thousand(), lang, { mentions }));
      expect(bytes(text)).toBeLessThanOrEqual(TEXT_MAX_BYTES);
      expect(bytes(text)).toBeGreaterThan(TEXT_MAX_BYTES - 300);
      expectWholeCharacters(text);
      expect(text).not.toMatch(/<font|\*\*|\]\(|<@|`/);
      expect(text).toMatch(lang === 'en' ? /\n…and \d+ more accounts\n/ : /\n……另有 \d+ 个账号\n/);
      expect(text.split('\n').at(-1)).toBe(`${lang === 'en' ? 'View the run: ' : '查看运行记录：'}${runUrl}`);
    });

    it('never passes a small budget, cutting nothing mid-character', () => {
      for (const max of [1_000, 400, 120, 30, 5]) {
        const md = robotDigest(input(thousand(), 'zh', { mentions }), max);
        expect(bytes(md)).toBeLessThanOrEqual(max);
        expectWholeCharacters(md);
      }
    });
  });
});

describe('appDigest', () => {
  it('is plain text with the same content', () => {
    expect(appDigest(input(mixed(), 'en', { mentions: ['zhangsan'] })).split('\n')).toEqual([
      '6 access keys are stale in 2 of 5 accounts',
      'Stale keys may be missing: 1 account could not be scanned, and 2 scans were incomplete',
      `- prod (111111111111): 5 stale keys, 2 due soon, Tracking issue #12: ${issueUrl(12)}`,
      '- Data Lake (EU) (222222222222): 1 stale key, scan incomplete',
      '- Sandbox (333333333333): could not be scanned: Could not assume role arn:aws:iam::333333333333:role/iam-stale-keys: Not authorized',
      '- legacy (444444444444): scan incomplete: 1 check could not be made',
      '3 other keys turn stale within 14 days',
      `View the run: ${runUrl}`,
    ]);
    expect(appDigest(input(mixed(), 'zh'))).toContain(
      `- prod (111111111111)：5 个过期密钥，2 个即将到期，跟踪 Issue #12：${issueUrl(12)}\n`,
    );
  });
});

describe('digestMentionText', () => {
  it('asks for rotation, says what may be missing, or gives the all-clear', () => {
    expect(digestMentionText('en', mixed())).toBe('Please rotate the stale access keys in 2 accounts.');
    expect(digestMentionText('zh', mixed())).toBe('请尽快轮换 2 个账号中过期的访问密钥。');
    const unscanned = [scanned('111111111111'), failed('222222222222')];
    expect(digestMentionText('en', unscanned)).toBe('Stale keys may be missing: 1 account could not be scanned.');
    expect(digestMentionText('zh', unscanned)).toBe('可能遗漏了过期的访问密钥：1 个账号未能扫描。');
    expect(digestMentionText('en', [scanned('111111111111')])).toBe(
      'No stale access keys in 1 account: checked 10 users and 1 key',
    );
  });
});
