/**
 * End-to-end: owners from IAM user tags, time-boxed exemptions and deactivation after notice, from
 * the built dist/index.js over the fake AWS, GitHub, OIDC and WeCom.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws } from '../fakes/aws.js';
import { demoAccount } from '../fakes/demo-account.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import { startFakeOidc, type FakeOidc } from '../fakes/oidc.js';
import { startFakeWecom, type FakeWecom } from '../fakes/wecom.js';
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

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

async function world(): Promise<World> {
  const [aws, github, oidc, wecom] = await Promise.all([
    startFakeAws({ account: demoAccount(), report: { inProgressPolls: 0 } }),
    startFakeGithub({ private: true }),
    startFakeOidc(),
    startFakeWecom(),
  ]);
  for (const fake of [aws, github, oidc, wecom]) stop.push(() => fake.close());
  return { aws, github, oidc, wecom };
}

function scan(w: World, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    inputs: { 'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys', ...inputs },
    env: fakeEndpoints(w),
  });
}

/** Sets a demo user's tags, as `aws iam tag-user` would. */
function tag(w: World, user: string, tags: Record<string, string>): void {
  const u = w.aws.account.users.find((x) => x.name === user)!;
  u.tags = Object.entries(tags).map(([key, value]) => ({ key, value }));
}

/** Time passes for the notice: the issue's marker says every key was first listed `days` ago. */
function backdateNotice(w: World, days: number): void {
  const issue = w.github.issues[0]!;
  issue.body = issue.body!.replace(/("since":\{)"\d{4}-\d{2}-\d{2}"/, `$1"${day(-days)}"`);
}

const comments = (w: World) => (w.github.comments.get(1) ?? []).map((c) => c.body);

describe('owners from IAM user tags', () => {
  it('names the owner beside the key, mentions the GitHub login in the task line and the change comment, and the WeCom user in the message', async () => {
    const w = await world();
    tag(w, 'alice', { owner: 'Payments team', 'iam-stale-keys:github': 'octocat', 'iam-stale-keys:wecom': 'zhangsan' });
    const first = await scan(w);
    expect(first.exitCode).toBe(1);
    // The issue's body: the task line of alice's key mentions the login.
    const body = w.github.issues[0]!.body!;
    expect(body).toMatch(/- \[ \] .*AKIAIOSFODNN7ALICE01.*owner: `Payments team` @octocat/);
    expect(first.summary).toContain('`alice` (owner: Payments team)');

    // A new stale key for alice: the change comment that first names it mentions the login.
    w.aws.account.users
      .find((u) => u.name === 'alice')!
      .keys.push({
        id: 'AKIAIOSFODNN7ALICE02',
        status: 'Active',
        created: new Date(Date.now() - 200 * DAY).toISOString().replace('.000Z', 'Z'),
      });
    w.aws.resetReport({ inProgressPolls: 0 });
    const second = await scan(w, { 'wecom-webhook-url': w.wecom.webhookUrl });
    expect(second.exitCode).toBe(1);
    const comment = comments(w).at(-1)!;
    expect(comment).toContain('AKIAIOSFODNN7ALICE02');
    expect(comment).toContain('@octocat');
    expect(w.wecom.messages[0]!.content).toContain('<@zhangsan>');
  });

  it('iam:ListUserTags refused: one note, no owner, and every stale key stays stale', async () => {
    const w = await world();
    tag(w, 'alice', { 'iam-stale-keys:exempt-until': day(10), 'iam-stale-keys:exempt-reason': 'vendor' });
    w.aws.deny.add('ListUserTags');
    const run = await scan(w);
    expect(run.exitCode).toBe(1);
    expect(run.outputs['stale-count']).toBe('4');
    expect(run.outputs['scan-complete']).toBe('true');
    expect(run.summary).toContain('Owners and exemptions were not read (iam:ListUserTags was denied)');
    expect(run.summary).not.toContain('Exempted');
  });
});

describe('exemptions with an end date', () => {
  it('lists an exempted user with its reason and date, and the job passes', async () => {
    const w = await world();
    const until = day(30);
    for (const user of ['alice', 'deploy-bot', 'svc-payments']) {
      tag(w, user, { 'iam-stale-keys:exempt-until': until, 'iam-stale-keys:exempt-reason': 'vendor contract, SEC-12' });
    }
    // The root key cannot be exempted: remove it to see the job pass.
    w.aws.account.rootKeys = [];
    w.aws.resetReport({ inProgressPolls: 0 });
    const run = await scan(w);
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs['stale-count']).toBe('0');
    expect(run.summary).toContain('### Exempted (3)');
    expect(run.summary).toContain(until);
    expect(run.summary).toContain('vendor contract, SEC-12');
    const report = JSON.parse(await readFile(run.outputs['report-path']!, 'utf8')) as {
      exempted: Array<{ user: string; exemptedUntil: string }>;
    };
    expect(report.exempted.map((k) => k.user).sort()).toEqual(['alice', 'deploy-bot', 'svc-payments']);
  });

  it('an exemption that ended: stale again, and the change comment says the exemption ended', async () => {
    const w = await world();
    tag(w, 'alice', { 'iam-stale-keys:exempt-until': day(5), 'iam-stale-keys:exempt-reason': 'migration' });
    await scan(w);
    expect(w.github.issues[0]!.body).toContain('migration');

    tag(w, 'alice', { 'iam-stale-keys:exempt-until': day(-1), 'iam-stale-keys:exempt-reason': 'migration' });
    const run = await scan(w);
    expect(run.outputs['stale-count']).toBe('4');
    expect(comments(w).at(-1)).toMatch(/exemption .*ended/i);
    expect(run.summary).toContain(`exemption not applied: the exemption ended on ${day(-1)}`);
  });
});

describe('deactivation after notice', () => {
  it('dry run: nothing changes in IAM, and the summary says what would be deactivated and when', async () => {
    const w = await world();
    const first = await scan(w, { 'deactivate-after-days': '7' });
    // When: a week after the issue first listed each key, on the key's own line.
    expect(first.summary).toContain(`would be deactivated on ${day(7)}`);
    expect(w.github.issues[0]!.body).toContain(`would be deactivated on ${day(7)} unless rotated first`);
    backdateNotice(w, 8);
    const run = await scan(w, { 'deactivate-after-days': '7' });
    expect(w.aws.keyUpdates).toEqual([]);
    expect(run.summary).toContain('### Would be deactivated after notice (dry run: 3)');
    const keys = JSON.parse(run.outputs['deactivated-keys']!) as Array<{ accessKeyId: string; outcome: string }>;
    expect(keys.map((k) => k.outcome)).toEqual(['would-deactivate', 'would-deactivate', 'would-deactivate']);
    expect(visibleLog(run)).toContain('Dry run: would deactivate access key');
  });

  it('a key first listed 8 days ago is deactivated (never deleted), oldest first within max-deactivations, and the issue says how to undo it', async () => {
    const w = await world();
    tag(w, 'svc-payments', { 'iam-stale-keys:github': 'payments-lead' });
    const inputs = { 'deactivate-after-days': '7', 'dry-run': 'false', 'max-deactivations': '2' };
    const first = await scan(w, inputs);
    expect(first.summary).toMatch(/deactivated on \d{4}-\d{2}-\d{2}/);
    expect(w.aws.keyUpdates).toEqual([]);

    backdateNotice(w, 8);
    const run = await scan(w, inputs);
    // Oldest first: svc-payments' 400-day key, then alice's 213-day one; deploy-bot's waits.
    expect(w.aws.keyUpdates.map((u) => [u.user, u.accessKeyId, u.status])).toEqual([
      ['svc-payments', 'AKIAIOSFODNN7PAYOLD1', 'Inactive'],
      ['alice', 'AKIAIOSFODNN7ALICE01', 'Inactive'],
    ]);
    const keys = JSON.parse(run.outputs['deactivated-keys']!) as Array<{ user: string; outcome: string }>;
    expect(keys.map((k) => [k.user, k.outcome])).toEqual([
      ['svc-payments', 'deactivated'],
      ['alice', 'deactivated'],
    ]);
    expect(run.summary).toContain('1 more key is due and waits for the next run');
    const comment = comments(w).at(-1)!;
    expect(comment).toContain('**Deactivated after notice**');
    expect(comment).toContain('@payments-lead');
    expect(comment).toContain(
      'aws iam update-access-key --user-name svc-payments --access-key-id AKIAIOSFODNN7PAYOLD1 --status Active',
    );
    // The fresh key of the same user is untouched: key by key, never by user.
    const svc = w.aws.account.users.find((u) => u.name === 'svc-payments')!;
    expect(svc.keys.map((k) => [k.id, k.status])).toEqual([
      ['AKIAIOSFODNN7PAYOLD1', 'Inactive'],
      ['AKIAIOSFODNN7PAYNEW1', 'Active'],
    ]);
  });

  it('UpdateAccessKey refused: that key is an error in the summary and the issue, everything else as it was', async () => {
    const w = await world();
    const inputs = { 'deactivate-after-days': '7', 'dry-run': 'false' };
    await scan(w, inputs);
    backdateNotice(w, 8);
    w.aws.deny.add('UpdateAccessKey');
    const run = await scan(w, inputs);
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      '4 access keys in account demo-prod (111111111111) are stale: 1 of the root user, 3 older than 90 days',
    ]);
    expect(w.aws.keyUpdates).toEqual([]);
    expect(run.summary).toContain('could not be deactivated');
    expect(run.summary).toContain('iam:UpdateAccessKey');
    expect(comments(w).at(-1)).toContain('**Could not be deactivated** (still active)');
  });

  it('needs the tracking issue: deactivate-after-days with issue false is an input error, before any request', async () => {
    const w = await world();
    const run = await scan(w, { 'deactivate-after-days': '7', issue: 'false' });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain('Input "deactivate-after-days" is 7 but "issue" is false');
    expect(w.aws.requests).toEqual([]);
  });
});
