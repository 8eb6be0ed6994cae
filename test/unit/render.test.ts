import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/account/judge.js';
import { byteLength, escapeMarkdown, fitLines } from '../../src/render/markdown.js';
import { fullKeyId, redactKeyId } from '../../src/render/present.js';
import { buildReport, failureMessage, staleKeysJson } from '../../src/account/report.js';
import type { ScanResult } from '../../src/account/result.js';
import { renderSummary } from '../../src/account/summary.js';
import type { AccessKey } from '../../src/model.js';
import { daysAgo, key, policy, scanResult } from '../helpers/scan-fixtures.js';

const result = (keys: AccessKey[], p: Policy = policy, alias: string | null = 'prod'): ScanResult =>
  scanResult(keys, { policy: p, alias });

describe('escapeMarkdown', () => {
  it('keeps table cells intact and markup inert', () => {
    expect(escapeMarkdown('a|b `c` *d* _e_ [f](g) <img src=x> & h\ni')).toBe(
      'a\\|b \\`c\\` \\*d\\* \\_e\\_ \\[f\\](g) \\<img src=x\\> &amp; h i',
    );
  });
});

describe('fitLines', () => {
  it('keeps every line that fits and says how many more', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`);
    const out = fitLines(lines, 40, (n) => `+${n}`);
    expect(out).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', '+5']);
    expect(byteLength(out.join('\n'))).toBeLessThanOrEqual(40);
    expect(fitLines(lines, 1000, (n) => `+${n}`)).toEqual(lines);
  });
});

describe('renderSummary', () => {
  it('shows stale keys oldest first with last use and reason, and due-soon keys', () => {
    const md = renderSummary(
      result([
        key('alice', 213),
        key('bob', 95, { lastUsedDate: null, lastUsedService: null, lastUsedRegion: null }),
        key('carol', 80),
        key('dave', 3),
      ]),
      { keyId: fullKeyId },
    );
    expect(md).toContain('## Stale AWS access keys: prod (111111111111)');
    expect(md).toContain('❌ **2 access keys are stale.** Scanned 4 users and 4 keys.');
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| User') && !l.startsWith('| ---'));
    expect(rows[0]).toBe(
      '| `alice` | `AKIA0213ALICEQQQQQQQ` | 213 | 2026-11-19 (s3, eu-west-1) | older than 90 days |',
    );
    expect(rows[1]).toBe('| `bob` | `AKIA0095BOBQQQQQQQQQ` | 95 | never | older than 90 days |');
    expect(md).toContain('### Due soon (1)');
    expect(rows[2]).toBe('| `carol` | `AKIA0080CAROLQQQQQQQ` | 80 | 10 |');
    expect(md).not.toContain('dave');
    expect(md).toContain('IAM credential report generated 2026-11-21 05:00 UTC');
  });

  it('redacts key IDs when asked', () => {
    const md = renderSummary(result([key('alice', 213)]), { keyId: redactKeyId });
    expect(md).toContain('`AKIA…QQQQ`');
    expect(md).not.toContain('AKIA0213ALICE');
  });

  it('puts user names in code, so no name becomes a link, a mention or markup', () => {
    const md = renderSummary(result([key('first.last@example.com', 200), key('@octocat', 200), key('svc_a_b', 200)]), {
      keyId: fullKeyId,
    });
    expect(md).toContain('| `first.last@example.com` |');
    expect(md).toContain('| `@octocat` |');
    expect(md).toContain('| `svc_a_b` |');
  });

  it('says all clear in one line when nothing is stale', () => {
    const md = renderSummary(result([key('alice', 10)], policy, null), { keyId: fullKeyId });
    expect(md).toContain('## Stale AWS access keys: 111111111111');
    expect(md).toContain('✅ No stale access keys. Scanned 1 user and 1 key.');
    expect(md).not.toContain('### Stale keys');
  });

  it('stays under the budget and says how many more, pointing at the report, never at a runner path', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => key(`user-${i}`, 100 + (i % 300)));
    const md = renderSummary(result(keys), { keyId: fullKeyId, budgetBytes: 100_000 });
    expect(byteLength(md)).toBeLessThanOrEqual(100_000);
    expect(md).toMatch(
      /_…and [\d,]+ more: the JSON report has them all \(output `report-path`; upload it with actions\/upload-artifact\)\._/,
    );
    expect(md).not.toContain('/tmp');
    const full = renderSummary(result(keys), { keyId: fullKeyId });
    expect(byteLength(full)).toBeLessThanOrEqual(1_000_000);
    expect(byteLength(full)).toBeGreaterThan(900_000);
  });

  it('mentions root keys, exclusions and notes', () => {
    const r = result([key('<root_account>', 500, { accessKeyId: null, root: true }), key('svc-x', 300)], {
      ...policy,
      excludeUsers: ['svc-*'],
    });
    r.inventory.notes.push('The credential report was denied.');
    const md = renderSummary(r, { keyId: fullKeyId });
    expect(md).toContain('| root user | `root user key` | 500 |');
    expect(md).not.toContain('root_account');
    expect(md).toContain('1 key of 1 user excluded');
    expect(md).toContain('- Excluded users: `svc-x`.');
    expect(md).toContain('- The credential report was denied.');
  });
});

describe('failureMessage', () => {
  it('says how many keys are older than the threshold', () => {
    expect(failureMessage(result([key('a', 100), key('b', 200), key('c', 300)], policy, null))).toBe(
      '3 access keys in account 111111111111 are older than 90 days',
    );
    expect(failureMessage(result([key('a', 100)]))).toBe(
      '1 access key in account prod (111111111111) is older than 90 days',
    );
  });

  it('breaks mixed reasons down', () => {
    const p = { ...policy, maxUnusedDays: 30 };
    const keys = [
      key('<root_account>', 500, { root: true, accessKeyId: null }),
      key('a', 100),
      key('both', 100, { lastUsedDate: null }),
      key('b', 40, { lastUsedDate: daysAgo(35) }),
    ];
    // Each key is counted once, under its gravest reason.
    expect(failureMessage(result(keys, p, null))).toBe(
      '4 access keys in account 111111111111 are stale: 1 of the root user, 2 older than 90 days, 1 unused for 30 days or more',
    );
  });
});

describe('machine-readable results', () => {
  it('lists stale keys with full IDs and ISO dates', () => {
    const { json, included } = staleKeysJson(result([key('alice', 213)]).judgement);
    expect(included).toBe(1);
    expect(JSON.parse(json)).toEqual([
      {
        user: 'alice',
        accessKeyId: 'AKIA0213ALICEQQQQQQQ',
        status: 'Active',
        createDate: daysAgo(213).toISOString(),
        ageDays: 213,
        lastUsedDate: daysAgo(2).toISOString(),
        lastUsedService: 's3',
        lastUsedRegion: 'eu-west-1',
        reasons: ['age'],
      },
    ]);
  });

  it('cuts the output at its budget, sized in UTF-16 as GitHub sizes outputs, and stays valid JSON', () => {
    const { judgement } = result(Array.from({ length: 100 }, (_, i) => key(`u${i}`, 100 + i)));
    const { json, included } = staleKeysJson(judgement, 4_000);
    expect(json.length * 2).toBeLessThanOrEqual(4_000);
    expect(json.length * 2).toBeGreaterThan(3_000);
    expect(JSON.parse(json)).toHaveLength(included);
    expect(included).toBeGreaterThan(0);
    expect(included).toBeLessThan(100);
  });

  it('builds a report of the whole scan', () => {
    const report = buildReport(result([key('alice', 213), key('carol', 80), key('dave', 3)]));
    expect(report).toMatchObject({
      schemaVersion: 1,
      account: { id: '111111111111', alias: 'prod', label: 'prod (111111111111)' },
      scan: { method: 'credential-report', credentialReportGeneratedAt: '2026-11-21T05:00:00.000Z', users: 3, keys: 3 },
      counts: { stale: 1, dueSoon: 1, excludedKeys: 0, excludedUsers: 0 },
    });
    expect(report.keys).toHaveLength(3);
    expect(report.dueSoon[0]).toMatchObject({ user: 'carol', daysLeft: 10 });
  });
});

describe('renderSummary at scale', () => {
  it('shows the first rows of each table and folds the rest, with due-soon keys capped', () => {
    const stale = Array.from({ length: 277 }, (_, i) => key(`stale-${i}`, 100 + i));
    const due = Array.from({ length: 695 }, (_, i) => key(`due-${i}`, 77 + (i % 13), { accessKeyId: null }));
    const md = renderSummary(result([...stale, ...due]), { keyId: fullKeyId });
    const [, staleSection = ''] = md.split('### Stale keys (277)');
    const visible = staleSection
      .split('<details>')[0]!
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    expect(visible).toHaveLength(25);
    expect(staleSection).toContain('<details><summary>252 more keys</summary>');
    const [, dueSection = ''] = md.split('### Due soon (695)');
    expect(
      dueSection
        .split('<details>')[0]!
        .split('\n')
        .filter((l) => l.startsWith('| `')),
    ).toHaveLength(10);
    expect(dueSection).toContain('<details><summary>490 more keys</summary>');
    expect(dueSection).toContain('_…and 195 more: the JSON report has them all');
    // Keys known only from the credential report are told apart by creation date, not a column of dashes.
    expect(dueSection).toMatch(/\| `due-\d+` \| created \d{4}-\d\d-\d\d \| \d+ \| \d+ \|/);
    expect(md).not.toContain('| — |');
  });
});
