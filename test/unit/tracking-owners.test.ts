/**
 * The tracking issue with owners and exemptions from IAM user tags, and the days it first listed
 * each key (src/tracking-issue/plan.ts, people.ts, marker.ts). Pure; fixed clock (`now` is
 * 2026-11-21T08:00Z).
 */
import { describe, expect, it } from 'vitest';
import type { ScanResult } from '../../src/account/result.js';
import { fullKeyId } from '../../src/render/present.js';
import {
  ISSUE_BODY_BUDGET,
  buildMarker,
  firstListed,
  keyToken,
  listing,
  parseMarker,
  planTracking,
  renderIssueBody,
  renderMarker,
  type IssuePlan,
  type Marker,
  type RenderContext,
  type TrackedIssue,
  type TrackingPlan,
} from '../../src/tracking-issue/plan.js';
import { inertCode } from '../../src/tracking-issue/people.js';
import type { Coverage } from '../../src/model.js';
import { exemptTags, key, now, scanResult, withTags } from '../helpers/scan-fixtures.js';

const ctx: RenderContext = { keyId: fullKeyId, runUrl: 'https://github.com/o/r/actions/runs/1', previous: null };
const options = { titleTemplate: 'Stale AWS access keys in {account}', closeResolved: true };
const ACCOUNT = '111111111111';

const alice = key('alice', 213);
const bob = key('bob', 150);
const carol = key('carol', 120);
const ALICE = alice.accessKeyId!;
const BOB = bob.accessKeyId!;
const CAROL = carol.accessKeyId!;
const token = (k: typeof alice) => keyToken(ACCOUNT, k);

/** `result` as scanned `days` days after `now`. */
function after(days: number, result: ScanResult): ScanResult {
  return { ...result, now: new Date(now.getTime() + days * 86_400_000) };
}

const issueWith = (body: string): TrackedIssue => ({
  number: 7,
  url: 'https://github.com/o/r/issues/7',
  title: 'Stale AWS access keys in prod (111111111111)',
  body,
  state: 'open',
  stateReason: null,
  locked: false,
  comments: 0,
});

function parts(plan: IssuePlan | TrackingPlan): { body: string; comment: string | null } {
  if (plan.action === 'update') return { body: plan.body, comment: plan.announce?.comment ?? null };
  if (plan.action === 'close') return { body: plan.body, comment: plan.announce.comment };
  if (plan.action === 'create') return { body: plan.body, comment: null };
  throw new Error(`no body in a ${plan.action} plan`);
}

/** What a reader sees outside code spans, fenced code and the hidden marker. */
function outsideCode(markdown: string): string {
  return markdown
    .replace(/^<!-- iam-stale-keys:tracking .* -->$/m, '')
    .replace(/```sh\n[\s\S]*?```/g, '')
    .replace(/(`+)[\s\S]*?\1/g, '');
}

const outsideMarker = (body: string) => body.slice(body.indexOf('\n') + 1);

/** The line of the body that starts with `start`. */
const lineOf = (body: string, start: string) => body.split('\n').find((l) => l.startsWith(start));

describe('owners in the tracking issue', () => {
  const tags = {
    alice: { owner: 'Payments team', 'iam-stale-keys:github': 'octocat' },
    bob: { 'iam-stale-keys:github': 'hubot' },
  };

  it("shows the owner's text beside each stale key, and mentions its GitHub login in the key's task line only", () => {
    const body = renderIssueBody(withTags(scanResult([alice, bob, carol]), tags), ctx);
    expect(body).toContain('| User | Access key | Owner | Status | Age (days) | Last used | Reason |');
    expect(lineOf(body, '| `alice` |')).toBe(
      `| \`alice\` | \`${ALICE}\` | \`Payments team\` | Active | 213 | 2026-11-19 (s3) | older than 90 days |`,
    );
    // A login without text is shown, not mentioned, in the table.
    expect(lineOf(body, '| `bob` |')).toContain(`| \`${BOB}\` | \`@hubot\` | Active |`);
    expect(lineOf(body, '| `carol` |')).toContain(`| \`${CAROL}\` |  | Active |`);
    expect(body).toContain(`- [ ] \`${ALICE}\` (\`alice\`, 213 days; owner: \`Payments team\` @octocat)`);
    expect(body).toContain(`- [ ] \`${BOB}\` (\`bob\`, 150 days; owner: @hubot)`);
    expect(body).toContain(`- [ ] \`${CAROL}\` (\`carol\`, 120 days)`);
    expect(outsideCode(body).match(/@\w+/g)).toEqual(['@octocat', '@hubot']);
  });

  it('has no owner column when no stale key has an owner', () => {
    const body = renderIssueBody(scanResult([alice]), ctx);
    expect(body).toContain('| User | Access key | Status | Age (days) | Last used | Reason |');
  });

  it('keeps IAM-sourced text inert: no mention, link, markup or broken table', () => {
    const hostile = '@someone [x](y) <b>bold</b> https://evil.example | `tick` **b**\nnext';
    const r = withTags(scanResult([alice, bob]), {
      alice: { owner: hostile, 'iam-stale-keys:github': 'Jane Doe' },
      bob: { ...exemptTags('2026-12-31', hostile), owner: '@team-x' },
    });
    const body = renderIssueBody(r, ctx);
    const seen = outsideCode(body);
    expect(seen).not.toMatch(/@someone|@team-x|\[x\]\(y\)|<b>|https:\/\/evil|\*\*b\*\*|Jane/);
    // A code span long enough for the backticks inside, the pipe escaped in a table cell.
    expect(lineOf(body, '| `alice` |')).toContain(
      '| ``@someone [x](y) <b>bold</b> https://evil.example \\| `tick` **b** next`` |',
    );
    expect(lineOf(body, '| `alice` |')!.split(/(?<!\\)\|/)).toHaveLength(9);
    expect(body).toContain(
      '(`alice`, 213 days; owner: ``@someone [x](y) <b>bold</b> https://evil.example | `tick` **b** next``)',
    );
    expect(lineOf(body, '| `bob` |')).toContain(
      '| `@team-x` | 2026-12-31 | ``@someone [x](y) <b>bold</b> https://evil.example \\| `tick` **b** next`` |',
    );
  });

  it('writes text in code spans that hold any run of backticks, and clips it', () => {
    expect(inertCode('a `b` c')).toBe('``a `b` c``');
    expect(inertCode('`edge`')).toBe('`` `edge` ``');
    expect(inertCode('a | b', true)).toBe('`a \\| b`');
    expect(inertCode('x'.repeat(300))).toHaveLength(102);
    expect(inertCode('  \n ')).toBe('');
  });

  it('mentions the owner in the comment that first names a key newly stale, and not in later ones', () => {
    const first = renderIssueBody(withTags(scanResult([alice]), tags), ctx);
    const second = planTracking(withTags(scanResult([alice, bob]), tags), issueWith(first), options, ctx);
    const { body, comment } = parts(second);
    expect(comment).toContain(`**Newly stale (1):**\n- \`${BOB}\` (\`bob\`, 150 days; owner: @hubot)`);
    expect(comment).not.toContain('@octocat');

    const third = parts(planTracking(withTags(scanResult([alice, bob, carol]), tags), issueWith(body), options, ctx));
    expect(third.comment).toContain(`**Newly stale (1):**\n- \`${CAROL}\` (\`carol\`, 120 days)`);
    expect(third.comment).not.toMatch(/@hubot|@octocat/);
    // The body keeps the task lines' mentions; a re-run writes nothing.
    expect(third.body).toContain('owner: @hubot');
    const rerun = planTracking(
      after(0, withTags(scanResult([alice, bob, carol]), tags)),
      issueWith(third.body),
      options,
      {
        ...ctx,
        runUrl: 'https://github.com/o/r/actions/runs/2',
      },
    );
    expect(rerun.action).toBe('unchanged');
  });

  it("never mentions a handle that is not a GitHub login's shape", () => {
    const r = withTags(scanResult([alice]), {});
    const owned = {
      ...r,
      judgement: { ...r.judgement, owners: new Map([['alice', { text: null, handles: { github: 'evil login @x' } }]]) },
    };
    expect(outsideCode(renderIssueBody(owned, ctx))).not.toContain('@');
  });

  it('says beside a stale key why its exemption was not applied', () => {
    const r = withTags(scanResult([alice, bob]), {
      alice: exemptTags('2026-11-20'),
      bob: exemptTags('next week'),
    });
    const body = renderIssueBody(r, ctx);
    expect(lineOf(body, '| `alice` |')).toMatch(
      /\| older than 90 days; exemption not applied: `the exemption ended on 2026-11-20` \|$/,
    );
    expect(body).toContain(
      `- [ ] \`${ALICE}\` (\`alice\`, 213 days; exemption not applied: \`the exemption ended on 2026-11-20\`)`,
    );
    expect(body).toContain(
      '(`bob`, 150 days; exemption not applied: `iam-stale-keys:exempt-until "next week" is not a date (YYYY-MM-DD)`)',
    );
  });
});

describe('exempted keys in the tracking issue', () => {
  const exempt = { bob: { ...exemptTags('2026-12-31'), owner: 'Bob B.' } };

  it('lists each exempted key with its owner, last day and reason, apart from the stale keys', () => {
    const body = renderIssueBody(withTags(scanResult([alice, bob]), exempt), ctx);
    expect(body).toContain(
      '**1 access key in account prod (111111111111) is older than 90 days.** 1 other key is exempted as accepted risk, listed below.',
    );
    expect(body).toContain('### Exempted (accepted risk) (1)');
    expect(body).toContain('| User | Access key | Age (days) | Owner | Exempt until | Reason |');
    expect(body).toContain(
      `| \`bob\` | \`${BOB}\` | 150 | \`Bob B.\` | 2026-12-31 | \`vendor integration, ticket SEC-12\` |`,
    );
    // Not a stale key: no row in the stale table, no task.
    expect(body).not.toContain(`- [ ] \`${BOB}\``);
    expect(outsideMarker(body).match(new RegExp(BOB, 'g'))).toHaveLength(1);
    expect(parseMarker(body)).toMatchObject({ count: 2, exempt: { '2026-12-31': expect.any(String) } });
  });

  it('opens an issue for exempted keys alone, and keeps it open: it is the record of the accepted risk', () => {
    const only = withTags(scanResult([bob]), exempt);
    const created = planTracking(only, null, options, ctx);
    expect(created.action).toBe('create');
    const { body } = parts(created);
    expect(body).toContain(
      '**1 stale access key in account prod (111111111111) is exempted as accepted risk until the days below; none fails the check.**',
    );
    expect(body).not.toContain('No stale access keys remain');
    expect(body).not.toContain('### Rotate each key');

    const withStale = renderIssueBody(withTags(scanResult([alice, bob]), exempt), ctx);
    const plan = planTracking(only, issueWith(withStale), options, ctx);
    expect(plan.action).toBe('update');
    expect(parts(plan).comment).toContain(`**Resolved (1):**\n- \`${ALICE}\` (\`alice\`)`);
    expect(parts(plan).comment).not.toContain('No stale access keys remain');
  });

  it('never calls a key resolved when it becomes exempt: the change is announced as an exemption', () => {
    const before = renderIssueBody(scanResult([alice, bob]), ctx);
    const plan = planTracking(withTags(scanResult([alice, bob]), exempt), issueWith(before), options, ctx);
    expect(plan.action).toBe('update');
    const { body, comment } = parts(plan);
    expect(comment).toContain('now 1 stale key, and 1 exempted key.');
    expect(comment).toContain(
      `**Exempted as accepted risk (1):**\n- \`${BOB}\` (\`bob\`, 150 days; owner: \`Bob B.\`) until 2026-12-31: \`vendor integration, ticket SEC-12\``,
    );
    expect(comment).not.toMatch(/Resolved|Newly stale/);
    // A change of verdict: announced, so `notify-when: changed` hears of it.
    expect(plan.action === 'update' && plan.announce?.digest).toBe(parseMarker(body)!.digest);
    expect(parseMarker(body)!.digest).not.toBe(parseMarker(before)!.digest);
  });

  it('says the exemption ended, not that the key is new, when an exempted key is stale again', () => {
    const tags = { bob: exemptTags('2026-11-25') };
    const before = renderIssueBody(withTags(scanResult([alice, bob]), tags), ctx);
    const plan = planTracking(withTags(after(5, scanResult([alice, bob])), tags), issueWith(before), options, ctx);
    const { body, comment } = parts(plan);
    expect(comment).toContain(`**Exemption ended (1):**\n- The exemption of \`${BOB}\` (\`bob\`) ended on 2026-11-25.`);
    expect(comment).not.toMatch(/Newly stale|Resolved/);
    expect(comment).not.toContain('@');
    expect(body).toContain(`(\`bob\`, 150 days; exemption not applied: \`the exemption ended on 2026-11-25\`)`);
    expect(body).not.toContain('### Exempted');
  });

  it('says why an exemption no longer applies before its day, when the tags were changed', () => {
    const before = renderIssueBody(withTags(scanResult([bob]), exempt), ctx);
    const removed = parts(planTracking(withTags(after(1, scanResult([bob])), {}), issueWith(before), options, ctx));
    expect(removed.comment).toContain(
      `- The exemption of \`${BOB}\` (\`bob\`) no longer applies: its user's tags no longer grant it.`,
    );
    const farOff = { bob: exemptTags('2027-06-01') };
    const moved = parts(planTracking(withTags(after(1, scanResult([bob])), farOff), issueWith(before), options, ctx));
    expect(moved.comment).toContain(
      `- The exemption of \`${BOB}\` (\`bob\`) no longer applies: \`iam-stale-keys:exempt-until 2027-06-01 is 191 days away, more than max-exemption-days (90)\`.`,
    );
  });

  it('rewrites the body without an announcement when only the exemption day or owner changes', () => {
    const before = renderIssueBody(withTags(scanResult([alice, bob]), exempt), ctx);
    const longer = { bob: { ...exemptTags('2027-01-15'), owner: 'Someone else' } };
    const plan = planTracking(withTags(scanResult([alice, bob]), longer), issueWith(before), options, ctx);
    expect(plan).toMatchObject({ action: 'update', announce: null });
    expect(parts(plan).body).toContain('| `Someone else` | 2027-01-15 |');
  });

  it("resolves an exempted key once its user's keys are seen without it", () => {
    const before = renderIssueBody(withTags(scanResult([alice, bob]), exempt), ctx);
    const plan = planTracking(scanResult([alice]), issueWith(before), options, ctx);
    const { body, comment } = parts(plan);
    expect(comment).toContain(`**Resolved (1):**\n- \`${BOB}\` (\`bob\`)`);
    expect(body).not.toContain('Exempted');
    const closed = planTracking(
      scanResult([]),
      issueWith(renderIssueBody(withTags(scanResult([bob]), exempt), ctx)),
      options,
      ctx,
    );
    expect(closed.action).toBe('close');
  });

  it('keeps an exempted key it could not see listed as exempted, and the set unchanged', () => {
    const before = renderIssueBody(withTags(scanResult([alice, bob]), exempt), ctx);
    const blind: Coverage = {
      gaps: [
        { what: 'The access keys of bob were not checked', fix: 'Grant iam:ListAccessKeys', couldHideStale: true },
      ],
      unseenUsers: new Set(['bob']),
      rootChecked: true,
    };
    const r = scanResult([alice]);
    const unseen = { ...r, inventory: { ...r.inventory, coverage: blind } };
    const plan = planTracking(unseen, issueWith(before), options, ctx);
    expect(plan).toMatchObject({ action: 'update', announce: null });
    expect(parts(plan).body).toContain(
      `- [ ] \`${BOB}\` (\`bob\`, exempted until 2026-12-31, not checked in the last scan)`,
    );
    expect(parseMarker(parts(plan).body)!.exempt).toEqual(parseMarker(before)!.exempt);
  });
});

describe('the days the issue first listed each key', () => {
  const marker = (body: string) => parseMarker(body)!;

  it("records today's date for each key first listed, and carries it across runs", () => {
    const r = withTags(scanResult([alice, bob]), { bob: exemptTags('2026-12-31') });
    expect(firstListed(null, r)).toEqual(
      new Map([
        [token(alice), '2026-11-21'],
        [token(bob), '2026-11-21'],
      ]),
    );
    const first = renderIssueBody(r, ctx);
    expect(Object.keys(marker(first).since!)).toEqual(['2026-11-21']);

    // Ten days on, carol is new; bob's exemption ended, so his notice starts over; alice is unchanged.
    const later = withTags(after(10, scanResult([alice, bob, carol])), {});
    expect(firstListed(marker(first), later)).toEqual(
      new Map([
        [token(alice), '2026-11-21'],
        [token(bob), '2026-12-01'],
        [token(carol), '2026-12-01'],
      ]),
    );
    const second = parts(planTracking(later, issueWith(first), options, ctx)).body;
    expect(firstListed(marker(second), after(20, scanResult([alice, bob, carol])))).toEqual(
      firstListed(marker(first), later),
    );
  });

  it('gives a key listed again after it was resolved the day it came back', () => {
    const first = renderIssueBody(scanResult([alice]), ctx);
    const gone = renderIssueBody(after(3, scanResult([])), ctx, first);
    expect(firstListed(parseMarker(gone), after(7, scanResult([alice]))).get(token(alice))).toBe('2026-11-28');
  });

  it("gives today's date to a key whose day is missing: an earlier version's marker, a person's edit", () => {
    const body = renderIssueBody(scanResult([alice, bob]), ctx);
    const old: Marker = { ...marker(body) };
    delete old.since;
    const r = after(30, scanResult([alice, bob]));
    expect([...firstListed(old, r).values()]).toEqual(['2026-12-21', '2026-12-21']);
    // Days a person broke or moved into the future count from today; another account's count for nothing.
    const broken: Marker = { ...old, since: { '2026-13-01': 'AAAAAAAA', '2026-11-02': 'short', '2027-01-01': 'x' } };
    expect([...firstListed(broken, r).values()]).toEqual(['2026-12-21', '2026-12-21']);
    const future = renderMarker(buildMarker(after(60, scanResult([alice])), fullKeyId));
    expect(firstListed(parseMarker(future), r).get(token(alice))).toBe('2026-12-21');
    expect(firstListed({ ...marker(body), account: '222222222222' }, r).get(token(alice))).toBe('2026-12-21');
    // The issue body without its marker: the run restores it, every key from today.
    const edited = body.slice(body.indexOf('\n') + 1);
    const restored = parts(planTracking(r, issueWith(edited), options, ctx)).body;
    expect(marker(restored).since).toEqual({ '2026-12-21': expect.any(String) });
  });

  it('keeps the days of 2,000 keys in the marker, 8 characters a key, within the body budget', () => {
    const many = Array.from({ length: 2_000 }, (_, i) =>
      key(`user-with-a-long-name-${i}`, 100 + (i % 900), { accessKeyId: `AKIA${String(i).padStart(16, '0')}` }),
    );
    const body = renderIssueBody(scanResult(many), ctx);
    expect(body.length).toBeLessThan(ISSUE_BODY_BUDGET);
    const m = marker(body);
    expect(m).toMatchObject({ count: 2_000, partial: true });
    expect(m.since!['2026-11-21']).toHaveLength(2_000 * 8);
    const later = after(1, scanResult(many));
    expect(new Set(firstListed(m, later).values())).toEqual(new Set(['2026-11-21']));
  });

  it("cuts the newest keys' days first from a marker too large, and gives them today's: never an earlier day", () => {
    const many = Array.from({ length: 5_000 }, (_, i) =>
      key(`user-with-a-long-name-${i}`, 100 + (i % 900), { accessKeyId: `AKIA${String(i).padStart(16, '0')}` }),
    );
    const first = renderIssueBody(scanResult(many.slice(0, 1_000)), ctx);
    const second = renderIssueBody(after(1, scanResult(many)), ctx, first);
    expect(second.length).toBeLessThan(ISSUE_BODY_BUDGET);
    const days = firstListed(marker(second), after(2, scanResult(many)));
    const count = (day: string) => [...days.values()].filter((d) => d === day).length;
    // The first 1,000 keep their day; of the 4,000 listed the day after, what fits keeps that day.
    expect(count('2026-11-21')).toBe(1_000);
    expect(count('2026-11-22')).toBeGreaterThan(1_500);
    expect(count('2026-11-23')).toBe(5_000 - count('2026-11-21') - count('2026-11-22'));
    expect([...days.values()].every((d) => d >= '2026-11-21')).toBe(true);
  });

  it('keeps a key its day while it moves between stale and exempted, and while its user is not seen', () => {
    const first = renderIssueBody(scanResult([alice, bob]), ctx);
    const exempted = withTags(after(5, scanResult([alice, bob])), { bob: exemptTags('2026-12-31') });
    const second = renderIssueBody(exempted, ctx, first);
    const r = after(9, scanResult([alice]));
    const blind = {
      ...r,
      inventory: {
        ...r.inventory,
        coverage: { gaps: [], unseenUsers: new Set(['bob']), rootChecked: true } satisfies Coverage,
      },
    };
    expect(listing(blind, marker(second)).carried).toHaveLength(1);
    expect(firstListed(marker(second), blind).get(token(bob))).toBe('2026-11-21');
  });
});

describe('a body with everything at once', () => {
  it('stays within the budget: thousands stale, hundreds exempted with long reasons, hundreds not checked', () => {
    const name = (p: string, i: number) => `${p}-with-a-rather-long-user-name-${i}`;
    const stale = Array.from({ length: 3_000 }, (_, i) => key(name('seen', i), 100 + (i % 500)));
    const exempt = Array.from({ length: 500 }, (_, i) => key(name('exmp', i), 100 + i));
    const blindUsers = Array.from({ length: 400 }, (_, i) => key(name('blnd', i), 200));
    const before = renderIssueBody(scanResult(blindUsers), ctx);
    const coverage: Coverage = {
      gaps: [{ what: 'Some keys were not checked', fix: 'Grant iam:ListAccessKeys', couldHideStale: true }],
      unseenUsers: new Set(blindUsers.map((k) => k.user)),
      rootChecked: true,
    };
    const tags = Object.fromEntries([
      ...exempt.map((k) => [k.user, { ...exemptTags('2026-12-31', 'r'.repeat(256)), owner: 'o'.repeat(256) }]),
      ...stale.map((k) => [k.user, { owner: 'team '.repeat(50), 'iam-stale-keys:github': 'octocat' }]),
    ]);
    const r = withTags(scanResult([...stale, ...exempt]), tags);
    const body = renderIssueBody({ ...r, inventory: { ...r.inventory, coverage } }, ctx, before);
    expect(body.length).toBeLessThan(ISSUE_BODY_BUDGET);
    expect(body).toContain('### Exempted (accepted risk) (500)');
    expect(body).toContain('### Not checked in the last scan (');
    expect(body).toMatch(/_…and [\d,]+ more: see the summary/);
  });
});
