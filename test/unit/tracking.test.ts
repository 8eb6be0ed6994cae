import { describe, expect, it } from 'vitest';
import { judge, type Policy } from '../../src/core/judge.js';
import { fullKeyId, redactKeyId } from '../../src/core/present.js';
import type { ScanResult } from '../../src/core/scan.js';
import {
  buildMarker,
  issueTitle,
  keyToken,
  parseMarker,
  planTracking,
  renderIssueBody,
  renderMarker,
  type RenderContext,
  type TrackedIssue,
} from '../../src/core/tracking.js';
import { FULL_COVERAGE, type AccessKey } from '../../src/model.js';

const now = new Date('2026-11-21T08:00:00Z');
const later = new Date('2026-11-21T09:30:00Z');
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
const policy: Policy = { maxAgeDays: 90, maxUnusedDays: 0, warnDays: 14, includeInactive: false, excludeUsers: [] };
const ctx: RenderContext = { keyId: fullKeyId, runUrl: 'https://github.com/o/r/actions/runs/1', previous: null };
const options = { titleTemplate: 'Stale AWS access keys in {account}', closeResolved: true };

function key(user: string, id: string, age: number): AccessKey {
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
  };
}

function result(keys: AccessKey[], at = now): ScanResult {
  return {
    account: {
      id: '111111111111',
      alias: 'prod',
      partition: 'aws',
      callerArn: 'arn:aws:sts::111111111111:assumed-role/r/s',
    },
    inventory: {
      method: 'credential-report',
      userCount: keys.length,
      keys,
      reportGeneratedAt: at,
      confirmedUsers: 0,
      notes: [],
      coverage: FULL_COVERAGE,
    },
    judgement: judge(keys, policy, at),
    policy,
    now: at,
  };
}

const alice = key('alice', 'AKIAALICE00000000001', 213);
const bob = key('bob', 'AKIABOB0000000000001', 120);
const carol = key('carol', 'AKIACAROL00000000001', 100);
const issueWith = (body: string): TrackedIssue => ({
  number: 7,
  url: 'https://github.com/o/r/issues/7',
  body,
  state: 'open',
  stateReason: null,
});

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
    expect(parseMarker(null)).toBeNull();
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

  it('updates the body without a comment when only ages moved', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const tomorrow = new Date(now.getTime() + 86_400_000);
    const plan = planTracking(result([alice, bob], tomorrow), issueWith(body), options, ctx);
    expect(plan).toMatchObject({ action: 'update', comment: null });
  });

  it('updates and comments once on new and resolved keys', () => {
    const body = renderIssueBody(result([alice, bob]), ctx);
    const plan = planTracking(result([bob, carol]), issueWith(body), options, ctx);
    expect(plan.action).toBe('update');
    if (plan.action !== 'update') return;
    expect(plan.comment).toContain('now 2 stale keys');
    expect(plan.comment).toContain('**Newly stale (1):**\n- `AKIACAROL00000000001` (carol, 100 days)');
    expect(plan.comment).toContain('**Resolved (1):**\n- AKIAALICE00000000001 (alice)');
  });

  it('keeps ticked tasks of keys that are still stale', () => {
    const body = renderIssueBody(result([alice, bob]), ctx).replace(
      '- [ ] `AKIABOB0000000000001`',
      '- [x] `AKIABOB0000000000001`',
    );
    const plan = planTracking(result([alice, bob, carol]), issueWith(body), options, ctx);
    expect(plan.action === 'update' && plan.body).toContain('- [x] `AKIABOB0000000000001` (bob, 120 days)');
    expect(plan.action === 'update' && plan.body).toContain('- [ ] `AKIAALICE00000000001` (alice, 213 days)');
  });

  it('closes a resolved issue with a comment', () => {
    const body = renderIssueBody(result([alice]), ctx);
    const plan = planTracking(result([]), issueWith(body), options, ctx);
    expect(plan).toMatchObject({ action: 'close' });
    expect(plan.action === 'close' && plan.comment).toMatch(
      /^✅ No stale access keys remain in account prod \(111111111111\)/,
    );
  });

  it('with close-resolved-issue false, rewrites the body as all clear and says so once', () => {
    const body = renderIssueBody(result([alice]), ctx);
    const plan = planTracking(result([]), issueWith(body), { ...options, closeResolved: false }, ctx);
    expect(plan).toMatchObject({ action: 'update' });
    if (plan.action !== 'update') return;
    expect(plan.body).toContain('No stale access keys remain');
    expect(plan.comment).toMatch(/^✅ No stale access keys remain/);
    expect(
      planTracking(result([], later), issueWith(plan.body), { ...options, closeResolved: false }, ctx).action,
    ).toBe('unchanged');
  });

  it('links the previous tracking issue', () => {
    const body = renderIssueBody(result([alice]), {
      ...ctx,
      previous: { number: 3, url: 'https://github.com/o/r/issues/3' },
    });
    expect(body).toContain('Previously tracked in #3.');
  });

  it('keeps bodies and comments of thousands of keys under the limit, oldest first', () => {
    const many = Array.from({ length: 5_000 }, (_, i) =>
      key(`user-with-a-long-name-${i}`, `AKIA${String(i).padStart(16, '0')}`, 100 + (i % 900)),
    );
    const body = renderIssueBody(result(many), ctx);
    expect(body.length).toBeLessThan(65_536);
    expect(body).toMatch(/_…and [\d,]+ more: see the summary of the run linked above, and its report artifact\._/);
    expect(parseMarker(body)).toMatchObject({ count: 5_000, partial: true });
    const plan = planTracking(result(many.slice(0, 4_000)), issueWith(body), options, ctx);
    expect(plan.action === 'update' && plan.comment).toMatch(
      /The stale access keys changed \(was 5,000, now 4,000 stale keys\)/,
    );
    const fewer = planTracking(
      result(many.slice(0, 300)),
      issueWith(renderIssueBody(result(many.slice(0, 400)), ctx)),
      options,
      ctx,
    );
    expect(fewer.action === 'update' && fewer.comment!.length).toBeLessThan(65_536);
  });
});
