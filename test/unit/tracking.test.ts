import { describe, expect, it } from 'vitest';
import { judge, type Policy } from '../../src/account/judge.js';
import { fullKeyId, redactKeyId } from '../../src/render/present.js';
import type { ScanResult } from '../../src/account/result.js';
import {
  ISSUE_BODY_BUDGET,
  accountIssueLabel,
  accountLabelDescription,
  buildMarker,
  hasAccountLabel,
  issueTitle,
  keyToken,
  latestAnnounced,
  listing,
  ownIssue,
  parseAnnouncement,
  parseMarker,
  planTracking,
  renderAnnouncementMarker,
  renderIssueBody,
  renderMarker,
  standingAnnouncement,
  type IssuePlan,
  type RenderContext,
  type TrackedIssue,
} from '../../src/tracking-issue/plan.js';
import { FULL_COVERAGE, ROOT_USER, type AccessKey, type Coverage } from '../../src/model.js';
import { deferredWarning, type TrackingOutcome } from '../../src/tracking-issue/sync.js';

const now = new Date('2026-11-21T08:00:00Z');
const later = new Date('2026-11-21T09:30:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
const policy: Policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] };
const ctx: RenderContext = { keyId: fullKeyId, runUrl: 'https://github.com/o/r/actions/runs/1', previous: null };
const options = { titleTemplate: 'Stale AWS access keys in {account}', closeResolved: true };

function key(user: string, id: string | null, age: number, over: Partial<AccessKey> = {}): AccessKey {
  return {
    user,
    accessKeyId: id,
    status: 'Active',
    createDate: daysAgo(age),
    lastUsedDate: daysAgo(1),
    lastUsedService: 's3',
    lastUsedRegion: 'us-east-1',
    lastUseKnown: true,
    root: false,
    ...over,
  };
}

function result(
  keys: AccessKey[],
  at = now,
  coverage: Coverage = FULL_COVERAGE,
  p: Policy = policy,
  alias: string | null = 'prod',
): ScanResult {
  return {
    account: {
      id: '111111111111',
      alias,
      partition: 'aws',
      callerArn: 'arn:aws:sts::111111111111:assumed-role/r/s',
    },
    inventory: {
      method: 'credential-report',
      userCount: new Set(keys.map((k) => k.user)).size,
      keys,
      reportGeneratedAt: at,
      confirmedUsers: 0,
      notes: [],
      coverage,
    },
    judgement: judge(keys, p, at),
    policy: p,
    now: at,
  };
}

/** A scan that could not list `users`' keys. */
const unseen = (...users: string[]): Coverage => ({
  gaps: [
    {
      what: `The access keys of ${users.join(', ')} were not checked`,
      fix: 'Grant iam:ListAccessKeys',
      couldHideStale: true,
    },
  ],
  unseenUsers: new Set(users),
  rootChecked: true,
});

const rootUnchecked: Coverage = {
  gaps: [{ what: 'Root access keys were not checked', fix: 'Grant iam:GetAccountSummary', couldHideStale: true }],
  unseenUsers: new Set(),
  rootChecked: false,
};

const alice = key('alice', 'AKIAALICE00000000001', 213);
const bob = key('bob', 'AKIABOB0000000000001', 120);
const carol = key('carol', 'AKIACAROL00000000001', 100);
const rootKey = key(ROOT_USER, null, 900, { root: true });
const issueWith = (body: string, over: Partial<TrackedIssue> = {}): TrackedIssue => ({
  number: 7,
  url: 'https://github.com/o/r/issues/7',
  title: 'Stale AWS access keys in prod (111111111111)',
  body,
  state: 'open',
  stateReason: null,
  locked: false,
  comments: 0,
  ...over,
});

/** The plan's body and announcement, whatever the plan. */
function parts(plan: IssuePlan | ReturnType<typeof planTracking>): { body: string; comment: string | null } {
  if (plan.action === 'update') return { body: plan.body, comment: plan.announce?.comment ?? null };
  if (plan.action === 'close') return { body: plan.body, comment: plan.announce.comment };
  if (plan.action === 'create') return { body: plan.body, comment: null };
  throw new Error(`no body in a ${plan.action} plan`);
}

describe('the hidden marker', () => {
  it('round-trips through the body and names the account', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const marker = parseMarker(body);
    expect(marker).toMatchObject({ v: 1, account: '111111111111', count: 2 });
    expect(Object.values(marker!.keys).sort()).toEqual(['AKIAALICE00000000001 (alice)', 'AKIABOB0000000000001 (bob)']);
  });

  it('carries no key ID, only short one-way tokens, in a public repository', () => {
    const marker = renderMarker(buildMarker(result([alice]), redactKeyId));
    expect(marker).not.toContain('AKIAALICE00000000001');
    expect(marker).toContain(keyToken('111111111111', alice));
  });

  it('differs per account for the same key', () => {
    expect(keyToken('111111111111', alice)).not.toBe(keyToken('222222222222', alice));
  });

  it('cannot be ended early by a user name', () => {
    const hostile = key('a-->b>', 'AKIAHOSTILE000000001', 200);
    expect(parseMarker(renderIssueBody(result([hostile]), ctx))?.count).toBe(1);
  });

  it('is absent from other issues', () => {
    expect(parseMarker('Some issue about keys')).toBeNull();
    expect(parseMarker('<!-- iam-stale-keys:tracking {broken -->')).toBeNull();
    expect(parseMarker('<!-- iam-stale-keys:tracking {"v":1,"account":"1","digest":"x"} -->')).toBeNull();
    expect(parseMarker(null)).toBeNull();
  });
});

describe('knowing its own issue', () => {
  const r = result([alice]);
  const template = options.titleTemplate;

  it('by the marker, for this account only', () => {
    const body = renderIssueBody(r, ctx);
    expect(ownIssue({ title: 'anything', body }, r, template)).toBe('marker');
    const other = { ...r, account: { ...r.account, id: '222222222222' } };
    expect(ownIssue({ title: issueTitle(template, r), body }, other, template)).toBeNull();
  });

  it('by the title as issueTitle renders it when a person removed or broke the marker', () => {
    expect(ownIssue({ title: 'Stale AWS access keys in prod (111111111111)', body: 'edited' }, r, template)).toBe(
      'title',
    );
    // The alias changed, or is gone: the account ID still says which account.
    expect(ownIssue({ title: 'Stale AWS access keys in old-name (111111111111)', body: '' }, r, template)).toBe(
      'title',
    );
    expect(ownIssue({ title: 'Stale AWS access keys in 111111111111', body: '' }, r, template)).toBe('title');
    const broken = renderIssueBody(r, ctx).replace('"digest"', '"dig');
    expect(ownIssue({ title: issueTitle(template, r), body: broken }, r, template)).toBe('title');
  });

  it("never takes another account's issue or a person's issue that only mentions the account", () => {
    expect(ownIssue({ title: 'Stale AWS access keys in prod (222222222222)', body: '' }, r, template)).toBeNull();
    expect(ownIssue({ title: 'Stale AWS access keys in 1111111111112', body: '' }, r, template)).toBeNull();
    expect(ownIssue({ title: 'Rotate the deploy key of 111111111111', body: '' }, r, template)).toBeNull();
    expect(ownIssue({ title: 'Stale AWS access keys in prod (111111111111) again', body: '' }, r, template)).toBeNull();
    // Without {account} in the template, a title cannot tell accounts apart.
    expect(ownIssue({ title: 'Stale keys', body: '' }, r, 'Stale keys')).toBeNull();
  });
});

describe('planTracking', () => {
  it('does nothing without stale keys or an issue', () => {
    expect(planTracking(result([]), null, options, ctx)).toEqual({ action: 'none' });
  });

  it('opens an issue titled for the account', () => {
    const plan = planTracking(result([alice]), null, options, ctx);
    expect(plan).toMatchObject({ action: 'create', title: 'Stale AWS access keys in prod (111111111111)' });
    expect(issueTitle('{account}: keys ({account})', result([]))).toBe(
      'prod (111111111111): keys (prod (111111111111))',
    );
  });

  it('makes no write when only the scan stamp would change', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const plan = planTracking(result([alice, bob], later), issueWith(body), options, {
      ...ctx,
      runUrl: 'https://github.com/o/r/actions/runs/2',
    });
    expect(plan.action).toBe('unchanged');
  });

  it('updates the body without an announcement when only ages moved', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const tomorrow = new Date(now.getTime() + 86_400_000);
    const plan = planTracking(result([alice, bob], tomorrow), issueWith(body), options, ctx);
    expect(plan).toMatchObject({ action: 'update', announce: null, restored: false });
  });

  it('announces new and resolved keys once, naming the new set in a hidden marker', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const plan = planTracking(result([bob, carol]), issueWith(body), options, ctx);
    expect(plan.action).toBe('update');
    if (plan.action !== 'update') return;
    const comment = plan.announce!.comment;
    expect(comment).toContain('now 2 stale keys');
    expect(comment).toContain('**Newly stale (1):**\n- `AKIACAROL00000000001` (`carol`, 100 days)');
    expect(comment).toContain('**Resolved (1):**\n- `AKIAALICE00000000001` (`alice`)');
    expect(parseAnnouncement(comment)).toEqual({ account: '111111111111', digest: plan.announce!.digest });
    expect(plan.announce!.digest).toBe(parseMarker(plan.body)!.digest);
    expect(plan.announce!.digest).not.toBe(parseMarker(body)!.digest);
  });

  it('keeps ticked tasks of keys that are still stale', () => {
    const body = renderIssueBody(result([alice, bob]), ctx).replace(
      '- [ ] `AKIABOB0000000000001`',
      '- [x] `AKIABOB0000000000001`',
    );
    const { body: next } = parts(planTracking(result([alice, bob, carol]), issueWith(body), options, ctx));
    expect(next).toContain('- [x] `AKIABOB0000000000001` (`bob`, 120 days)');
    expect(next).toContain('- [ ] `AKIAALICE00000000001` (`alice`, 213 days)');
  });

  it('closes a resolved issue in one write with the body rewritten to the resolved state', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    expect(body).toContain('**2 access keys in account prod (111111111111) are older than 90 days.**');
    const plan = planTracking(result([]), issueWith(body), options, ctx);
    expect(plan.action).toBe('close');
    const { body: closed, comment } = parts(plan);
    expect(closed).toContain('✅ **No stale access keys remain in account prod (111111111111).**');
    expect(closed).not.toMatch(/are (stale|older)/);
    expect(closed).not.toContain('AKIAALICE');
    expect(parseMarker(closed)).toMatchObject({ count: 0, keys: {} });
    expect(comment).toMatch(/^✅ No stale access keys remain in account prod \(111111111111\).*Closing this issue\./);
  });

  it('with close-resolved-issue false, rewrites the body as all clear and says so once', () => {
    const body = renderIssueBody(result([alice]), ctx);
    const keepOpen = { ...options, closeResolved: false };
    const plan = planTracking(result([]), issueWith(body), keepOpen, ctx);
    expect(plan).toMatchObject({ action: 'update' });
    const { body: next, comment } = parts(plan);
    expect(next).toContain('No stale access keys remain');
    expect(comment).toMatch(/^✅ No stale access keys remain/);
    expect(planTracking(result([], later), issueWith(next), keepOpen, ctx).action).toBe('unchanged');
  });

  it('links the previous tracking issue, and keeps the link on every update', () => {
    const body = renderIssueBody(result([alice]), {
      ...ctx,
      previous: { number: 3, url: 'https://github.com/o/r/issues/3' },
    });
    expect(body).toContain('Previously tracked in #3.');
    const { body: next } = parts(planTracking(result([alice, bob]), issueWith(body), options, ctx));
    expect(next).toContain('Previously tracked in #3.');
  });

  it('restores a missing marker without claiming what changed', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const edited = body.slice(body.indexOf('\n') + 1);
    expect(parseMarker(edited)).toBeNull();
    const plan = planTracking(result([alice, bob]), issueWith(edited), options, ctx);
    expect(plan).toMatchObject({ action: 'update', announce: null, restored: true });
    expect(parseMarker(parts(plan).body)).toMatchObject({ account: '111111111111', count: 2 });
  });
});

describe('the issue body', () => {
  it('puts user names in code spans: no mail link, no mention, and calls root the root user', () => {
    const r = result([
      key('first.last@example.com', 'AKIAMAIL000000000001', 200),
      key('@octocat', 'AKIAMENTION000000001', 150),
      rootKey,
    ]);
    const body = renderIssueBody(r, ctx);
    expect(body).toContain('| `first.last@example.com` | `AKIAMAIL000000000001` |');
    expect(body).toContain('| `@octocat` | `AKIAMENTION000000001` |');
    expect(body).toContain('| root user | `root user key` | Active | 900 |');
    expect(body).toContain('- [ ] `root user key` (root user, 900 days)');
    expect(body).toContain('- [ ] `AKIAMENTION000000001` (`@octocat`, 150 days)');
    // What people see (the hidden marker aside): no bare mention, mail address or IAM's name for root.
    const visible = body.slice(body.indexOf('\n') + 1).replace(/```sh\n[\s\S]*?```/g, '');
    expect(visible).not.toMatch(/[^`]@octocat|[^`]first\.last@/);
    expect(visible).not.toMatch(/root_account/);
  });

  it('writes numbers with thousands separators and singulars for one', () => {
    const old = key('ancient', 'AKIAANCIENT000000001', 1_234);
    const one = renderIssueBody(result([old], now, FULL_COVERAGE, { ...policy, maxAgeDays: 1, maxUnusedDays: 1 }), ctx);
    expect(one).toContain('| `ancient` | `AKIAANCIENT000000001` | Active | 1,234 |');
    expect(one).toContain('(`ancient`, 1,234 days)');
    expect(one).toMatch(/1 user and 1 key; a key is stale at 1 day or after 1 day unused\./);
  });

  it('cuts the table and the task list at the same key, and says how many more with separators', () => {
    const many = Array.from({ length: 5_000 }, (_, i) =>
      key(`user-with-a-rather-long-name-number-${i}`, `AKIA${String(i).padStart(16, '0')}`, 100 + (i % 900)),
    );
    const body = renderIssueBody(result(many), ctx);
    expect(body.length).toBeLessThan(60_000);
    const mores = [...body.matchAll(/_…and ([\d,]+) more: see the summary/g)].map((m) => m[1]);
    expect(mores).toHaveLength(2);
    expect(mores[0]).toBe(mores[1]);
    expect(mores[0]).toMatch(/^\d,\d{3}$/);
    const rows = body.match(/^\| `user-with/gm)!.length;
    const tasks = body.match(/^- \[ \] `AKIA/gm)!.length;
    expect(rows).toBe(tasks);
    expect(rows + Number(mores[0]!.replace(',', ''))).toBe(5_000);
  });

  it('gives the exact rotation commands for keys whose full ID is shown, and placeholders when redacted', () => {
    const full = renderIssueBody(result([alice, bob]), ctx);
    expect(full).toContain('aws iam create-access-key --user-name alice');
    expect(full).toContain(
      'aws iam update-access-key --user-name alice --access-key-id AKIAALICE00000000001 --status Inactive',
    );
    expect(full).toContain('aws iam delete-access-key --user-name bob --access-key-id AKIABOB0000000000001');
    expect(full).not.toContain('--user-name USER');
    const redacted = renderIssueBody(result([alice]), { ...ctx, keyId: redactKeyId });
    expect(redacted).toContain('aws iam update-access-key --user-name USER --access-key-id OLD --status Inactive');
    expect(redacted).not.toMatch(/AKIAALICE0000/);
  });

  it('keeps bodies and comments of thousands of keys under the limit', () => {
    const many = Array.from({ length: 5_000 }, (_, i) =>
      key(`user-with-a-long-name-${i}`, `AKIA${String(i).padStart(16, '0')}`, 100 + (i % 900)),
    );
    const body = renderIssueBody(result(many), ctx);
    expect(body.length).toBeLessThan(65_536);
    expect(parseMarker(body)).toMatchObject({ count: 5_000, partial: true });
    const plan = planTracking(result(many.slice(0, 4_000)), issueWith(body), options, ctx);
    expect(parts(plan).comment).toMatch(/The stale access keys changed \(was 5,000, now 4,000 stale keys\)/);
    const fewer = planTracking(
      result(many.slice(0, 300)),
      issueWith(renderIssueBody(result(many.slice(0, 400)), ctx)),
      options,
      ctx,
    );
    expect(parts(fewer).comment!.length).toBeLessThan(65_536);
  });
});

describe('an incomplete scan', () => {
  const before = renderIssueBody(result([alice, bob, rootKey]), ctx);

  it('keeps listing, unresolved, the keys of users it could not see', () => {
    // alice's keys could not be listed; bob rotated.
    const r = result([], now, unseen('alice'));
    const list = listing(r, parseMarker(before));
    expect(list.incomplete).toBe(true);
    expect(list.carried.map((c) => c.label)).toEqual(['AKIAALICE00000000001 (alice)']);

    const plan = planTracking(r, issueWith(before), options, ctx);
    expect(plan.action).toBe('update'); // never closed
    const { body, comment } = parts(plan);
    expect(body).toContain('### Not checked in the last scan (1)');
    expect(body).toContain("This key was stale in an earlier scan. The last scan could not see its user's keys");
    expect(body).toContain('- [ ] `AKIAALICE00000000001` (`alice`, not checked in the last scan)');
    expect(body).toContain('⚠️ **This scan could not check everything**');
    expect(body).toContain('- The access keys of alice were not checked. Grant iam:ListAccessKeys.');
    expect(body).toContain('among the keys this scan could check');
    expect(body).not.toContain('✅');
    expect(parseMarker(body)!.keys[keyToken('111111111111', alice)]).toBe('AKIAALICE00000000001 (alice)');
    // bob was seen and is resolved; alice is not called resolved.
    expect(comment).toContain('**Resolved (2):**');
    expect(comment).toContain('- `AKIABOB0000000000001` (`bob`)');
    expect(comment).toContain('- `root user key` (root user)');
    expect(comment).not.toMatch(/ALICE.*\n?.*Resolved|Resolved[\s\S]*ALICE/);
    expect(comment).toContain('keys it could not see stay listed and are not called resolved');
    expect(comment).toContain(': now 0 stale keys, and 1 key not checked.');
  });

  it('never closes the issue, even with nothing stale and nothing carried', () => {
    const r = result([], now, rootUnchecked);
    const plan = planTracking(r, issueWith(renderIssueBody(result([alice]), ctx)), options, ctx);
    expect(plan.action).toBe('update');
    expect(parts(plan).body).toContain('Root access keys were not checked. Grant iam:GetAccountSummary.');
  });

  it('carries a root key while root keys are not checked, and resolves it once a scan checks them', () => {
    const first = parts(planTracking(result([alice], now, rootUnchecked), issueWith(before), options, ctx));
    expect(first.body).toContain('- [ ] `root user key` (root user, not checked in the last scan)');
    expect(first.comment).toContain('- `AKIABOB0000000000001` (`bob`)');
    expect(first.comment).not.toContain('root user key');

    const second = planTracking(result([alice], later), issueWith(first.body), options, ctx);
    expect(parts(second).comment).toContain('**Resolved (1):**\n- `root user key` (root user)');
    expect(parts(second).body).not.toContain('Not checked in the last scan');
  });

  it('counts a key whose last use is unknown as not seen', () => {
    const p = { ...policy, maxUnusedDays: 30 };
    const blind = key('alice', 'AKIAALICE00000000002', 40, { lastUsedDate: null, lastUseKnown: false });
    const r = result([blind], now, FULL_COVERAGE, p);
    expect(r.judgement.undetermined).toHaveLength(1);
    const plan = planTracking(r, issueWith(renderIssueBody(result([alice], now, FULL_COVERAGE, p), ctx)), options, ctx);
    expect(plan.action).toBe('update');
    expect(parts(plan).body).toContain('`AKIAALICE00000000001` (`alice`, not checked in the last scan)');
  });

  it('announces nothing when it carries every key it could not see', () => {
    const r = result([bob], now, unseen('alice'));
    const prior = renderIssueBody(result([alice, bob]), ctx);
    const plan = planTracking(r, issueWith(prior), options, ctx);
    expect(plan).toMatchObject({ action: 'update', announce: null });
  });
});

describe('the body of a large account after an incomplete scan', () => {
  it('stays within the budget with thousands of stale keys and hundreds not checked', () => {
    const users = (prefix: string, n: number, age: number) =>
      Array.from({ length: n }, (_, i) =>
        key(
          `${prefix}-with-a-rather-long-user-name-${i}`,
          `AKIA${prefix.toUpperCase()}${String(i).padStart(12, '0')}`,
          age + (i % 500),
        ),
      );
    const blindUsers = users('blnd', 400, 200);
    const before = renderIssueBody(result(blindUsers), ctx);
    const coverage = unseen(...blindUsers.map((k) => k.user));
    // The blind users' keys could not be listed: the scan has none of them.
    const r = result(users('seen', 5_000, 100), now, coverage);
    const body = renderIssueBody(r, ctx, before);
    expect(body.length).toBeLessThan(ISSUE_BODY_BUDGET);
    expect(body).toContain('### Not checked in the last scan (');
    expect(body).toMatch(/- …and [\d,]+ more\n/);
  });
});

describe('announcements', () => {
  const a = (id: number, digest: string, account = '111111111111') => ({
    id,
    body: `text\n\n${renderAnnouncementMarker(account, digest)}`,
  });
  const plain = (id: number) => ({ id, body: 'a person wrote this' });

  it('names the newest announced set of the account', () => {
    expect(latestAnnounced([a(1, 'x'), plain(2), a(3, 'y'), plain(4), a(5, 'z', '222222222222')], '111111111111')).toBe(
      'y',
    );
    expect(latestAnnounced([plain(1)], '111111111111')).toBeNull();
  });

  it('lets the first of overlapping announcements of one change stand', () => {
    const comments = [a(1, 'x'), a(2, 'y'), plain(3), a(4, 'y'), a(5, 'y')];
    expect(standingAnnouncement(comments, '111111111111', 'y')).toBe(2);
    // A change back to x after y is a new change: its first announcement stands.
    expect(standingAnnouncement([...comments, a(6, 'x'), a(7, 'x')], '111111111111', 'x')).toBe(6);
    expect(standingAnnouncement(comments, '111111111111', 'x')).toBeNull();
  });
});

describe('the account label', () => {
  it("names the account within GitHub's 50 characters, and says what it is for", () => {
    expect(accountIssueLabel('111111111111')).toBe('aws-account:111111111111');
    expect(accountIssueLabel('111111111111').length).toBeLessThanOrEqual(50);
    expect(accountLabelDescription('111111111111').length).toBeLessThanOrEqual(100);
  });

  it('tells issues that name an account from those opened before account labels', () => {
    expect(hasAccountLabel(['security', 'AWS-Account:111111111111'])).toBe(true);
    expect(hasAccountLabel(['security', 'stale-access-keys'])).toBe(false);
  });
});

describe('the warning for deferred accounts', () => {
  const deferred = (problem: string): TrackingOutcome => ({
    action: 'deferred',
    number: null,
    url: null,
    changed: null,
    problem,
  });
  const done: TrackingOutcome = { action: 'created', number: 1, url: 'u', changed: true, problem: null };
  const account = (n: number) => ({ id: String(200_000_000_000 + n), alias: n % 2 ? `acct-${n}` : null });

  it('is none when no account was deferred', () => {
    expect(deferredWarning([{ account: account(1), outcome: done }])).toBeNull();
  });

  it('names one account, and why', () => {
    expect(
      deferredWarning([
        { account: account(1), outcome: done },
        {
          account: account(2),
          outcome: deferred("GitHub's write budget for this run (450 writes) was spent: the next run will open it"),
        },
      ]),
    ).toBe(
      "The tracking issue of 1 account was not brought up to date in this run (GitHub's write budget for this run (450 writes) was spent); the next run will: 200000000002.",
    );
  });

  it('names ten accounts and counts the rest, with each reason once', () => {
    const entries = Array.from({ length: 14 }, (_, i) => ({
      account: account(i + 1),
      outcome: deferred(
        i < 12
          ? `the 10 min allowed for GitHub in this run ran out: the next run will ${i % 2 ? 'open' : 'update'} it`
          : "GitHub's rate limit had 3 requests left until 14:05 UTC: the next run will update it",
      ),
    }));
    const text = deferredWarning(entries)!;
    expect(text).toMatch(
      /^The tracking issues of 14 accounts were not brought up to date in this run \(the 10 min allowed for GitHub in this run ran out; GitHub's rate limit had 3 requests left until 14:05 UTC\); the next run will: acct-1 \(200000000001\), 200000000002, /,
    );
    expect(text).toMatch(/, and 4 more\.$/);
  });
});
