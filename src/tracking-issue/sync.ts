/**
 * Keeps one open tracking issue per repository and account, within the GitHub client's deadline
 * and write budget: finds it (./tracking-index.ts: by the account's label, or from the run's
 * index), then carries out the plan from plan.ts one write at a time, in an order that
 * leaves the issue consistent wherever a run stops. Overlapping runs converge to one open issue
 * and one announcement per change. A failure, or the deadline, is said once as a warning and
 * reported in the outcome with what was done: it never throws.
 *
 * A run over many accounts shares one client: one deadline, one write queue, one budget. An
 * account whose writes no longer fit (the budget spent, the time up, GitHub's rate limit reached)
 * is not started: its outcome is `deferred` with the reason, and the next run brings it up to date.
 */
import { describeGithubError, DeadlineError, duration, NoAnswerError, WriteBudgetError } from './github-client.js';
import { status, type CommentRecord, type IssueRecord, type IssuesApi } from './issues-api.js';
import { count, plural } from '../render/markdown.js';
import { accountLabel, type KeyIdStyle } from '../render/present.js';
import type { ScanResult } from '../account/result.js';
import {
  deactivationComment,
  accountIssueLabel,
  accountLabelDescription,
  accountMarker,
  latestAnnounced,
  listedCount,
  ownIssue,
  planForIssue,
  planTracking,
  standingAnnouncement,
  type Announcement,
  type IssuePlan,
  type Marker,
  type RenderContext,
  type TrackedIssue,
} from './plan.js';
import {
  accountFinder,
  labelAccountIssue,
  labelLegacyIssues,
  lacksAccountLabel,
  openTrackingIndex,
  type FindOptions,
  type Halt,
  type IssueFinder,
  type TrackingIndex,
} from './index.js';

/**
 * What the run did to the tracking issue. `failed`: it could not bring the issue up to date (a
 * warning says why); the next run will. `deferred`: the run did not start on it, because its
 * writes no longer fitted in the run's write budget, its time or GitHub's rate limit (`problem`
 * says which); the next run will.
 */
export type IssueAction = 'created' | 'updated' | 'unchanged' | 'closed' | 'none' | 'failed' | 'deferred';

export interface TrackingOutcome {
  action: IssueAction;
  number: number | null;
  url: string | null;
  /**
   * Whether this run is the one that announced a change in the stale keys: of overlapping runs,
   * exactly one says `true` per change. `null` when unknown.
   */
  changed: boolean | null;
  /** Why the issue may be behind the scan, as the one warning said it; `null` when it is not. */
  problem?: string | null;
}

export interface TrackingOptions extends FindOptions {
  assignees: string[];
  closeResolved: boolean;
  keyId: KeyIdStyle;
  runUrl: string | null;
}

export interface TrackingLog {
  info: (message: string) => void;
  warning: (message: string) => void;
}

/**
 * Called once the account's open issue has been read (with its marker, or `null`: no issue, no
 * marker, or another account's) and before the body is rendered: what it returns is what the issue
 * shows. The run learns there what the issue listed before (`firstListed`) and may act on it, and
 * say what it did in the result. It runs within the GitHub deadline; the account may still be
 * deferred after it (write budget, rate limit), so what it did must stand without the issue.
 */
export type BeforeRender = (result: ScanResult, previous: Marker | null) => Promise<ScanResult>;

/** How the run syncs an account. */
export interface SyncContext {
  /** The run's index of open tracking issues (`openTrackingIndex`); without it, the account's own listing. */
  index?: TrackingIndex;
  beforeRender?: BeforeRender;
}

/** What the run has done so far, for the outcome when it stops part-way. */
interface Progress {
  issue: { number: number; url: string } | null;
  done: 'created' | 'updated' | 'closed' | null;
  changed: boolean | null;
  /** The issue is up to date: what follows (its account label) cannot change the outcome. */
  finished: TrackingOutcome | null;
}

/** Attempts to create the issue, each after looking for it. */
const CREATE_ATTEMPTS = 2;

/** The requests an account's work takes, writes among them, as far as can be told before it starts. */
interface Cost {
  writes: number;
  requests: number;
}

/** Opening an issue: the account label and the issue; lookups before and after. */
const CREATE_COST: Cost = { writes: 2, requests: 8 };
/** Labelling an issue opened before account labels: the label, then the issue's. */
const LABEL_COST: Cost = { writes: 2, requests: 2 };
/** Closing a duplicate: the close, and the comment that says why. */
const DUPLICATE_COST: Cost = { writes: 2, requests: 2 };
const DEACTIVATION_COST: Cost = { writes: 1, requests: 1 };

/** Thrown before the first request an account cannot afford: the account waits for the next run. */
class Deferral extends Error {
  override name = 'Deferral';
  constructor(
    readonly action: 'deferred' | 'failed',
    readonly reason: string,
    readonly verb: string,
  ) {
    super(reason);
  }
}

/**
 * Brings the account's tracking issue up to date. Without `context.index` (a matrix job), the
 * account's issues are found with one listing by its account label. With it (a run over many
 * accounts), from the run's index, without a request.
 */
export async function syncTrackingIssue(
  api: IssuesApi,
  result: ScanResult,
  options: TrackingOptions,
  log: TrackingLog,
  context: SyncContext = {},
): Promise<TrackingOutcome> {
  const index = context.index ?? null;
  // Said once, when the index was opened.
  if (index?.problem) return { action: 'failed', number: null, url: null, changed: null, problem: index.problem };
  const progress: Progress = { issue: null, done: null, changed: null, finished: null };
  const finder = index ? index.finder() : accountFinder(api, options);
  const work = track(api, result, options, log, progress, finder, index, context.beforeRender ?? null);
  try {
    // Past the deadline, an account whose issue is up to date still says so: it needs no request.
    return await (api.deadline.signal.aborted ? work : api.deadline.race(work));
  } catch (err) {
    if (progress.finished) return progress.finished;
    if (err instanceof Deferral) return deferred(err, progress, log, index);
    if (err instanceof WriteBudgetError) {
      const reason = budgetReason(api);
      if (index) index.halt ??= { action: 'deferred', reason };
      return deferred(new Deferral('deferred', reason, progress.issue ? 'update' : 'open'), progress, log, index);
    }
    const outcome = stopped(err, api, progress, log);
    if (index) index.halt ??= haltFor(err, outcome.problem ?? describeGithubError(err), api);
    return outcome;
  }
}

/**
 * Organisation mode in one call: lists the open tracking issues once, syncs every account from
 * that index on the one client (the accounts that tell people of new stale keys first, then those
 * resolved, then the rest), labels the issues opened before account labels with what is left, and
 * says once which accounts were deferred. The outcomes are in the order of `results`.
 */
export async function syncTrackingIssues(
  api: IssuesApi,
  results: readonly ScanResult[],
  options: TrackingOptions,
  log: TrackingLog,
  hooks: { beforeRender?: BeforeRender } = {},
): Promise<TrackingOutcome[]> {
  const index = await openTrackingIndex(api, options, log);
  const outcomes: TrackingOutcome[] = [];
  for (const i of workOrder(results, index, options)) {
    outcomes[i] = await syncTrackingIssue(api, results[i]!, options, log, { ...hooks, index });
  }
  if (!index.problem) await labelLegacyIssues(api, index, log);
  const warning = deferredWarning(results.map((r, i) => ({ account: r.account, outcome: outcomes[i]! })));
  if (warning) log.warning(warning);
  return outcomes;
}

/**
 * The order in which a run over many accounts syncs them: first the accounts whose issue is to
 * tell people of new stale keys (a new issue, then a change), then those whose keys were resolved,
 * then the rest (no write, or the body only, or a new issue of exempted keys only); within each,
 * more stale keys first, then the order given. Pure: planned from the index, before `beforeRender`.
 */
export function workOrder(results: readonly ScanResult[], index: TrackingIndex, options: TrackingOptions): number[] {
  const ctx: RenderContext = { keyId: options.keyId, runUrl: options.runUrl, previous: null };
  const rank = results.map((result) => {
    const open = index.peek(result)?.[0];
    if (!open) return result.judgement.stale.length > 0 ? 0 : listedCount(result.judgement) > 0 ? 3 : 4;
    const plan = planForIssue(result, open, options, ctx);
    if (plan.action === 'update') return plan.announce ? 1 : 3;
    return plan.action === 'close' ? 2 : 4;
  });
  const stale = (i: number) => results[i]!.judgement.stale.length;
  return results.map((_, i) => i).sort((a, b) => rank[a]! - rank[b]! || stale(b) - stale(a) || a - b);
}

/**
 * One warning for the accounts whose tracking issue a run deferred, naming them; `null` when none
 * was. A run over many accounts gives it once, instead of one warning an account.
 */
export function deferredWarning(
  entries: ReadonlyArray<{ account: { id: string; alias: string | null }; outcome: TrackingOutcome }>,
): string | null {
  const behind = entries.filter((e) => e.outcome.action === 'deferred');
  if (behind.length === 0) return null;
  const reasons = [...new Set(behind.map((e) => (e.outcome.problem ?? '').replace(/: the next run will \w+ it$/, '')))];
  const shown = 10;
  const names = behind.slice(0, shown).map((e) => accountLabel(e.account));
  const more = behind.length > shown ? `, and ${count(behind.length - shown)} more` : '';
  const one = behind.length === 1;
  return `The tracking ${one ? 'issue' : 'issues'} of ${plural(behind.length, 'account', 'accounts')} ${one ? 'was' : 'were'} not brought up to date in this run (${reasons.join('; ')}); the next run will: ${names.join(', ')}${more}.`;
}

async function track(
  api: IssuesApi,
  result: ScanResult,
  options: TrackingOptions,
  log: TrackingLog,
  progress: Progress,
  finder: IssueFinder,
  index: TrackingIndex | null,
  beforeRender: BeforeRender | null,
): Promise<TrackingOutcome> {
  // Stale or exempted keys: an issue to open when there is none.
  const listed = listedCount(result.judgement) > 0;
  const ctx: RenderContext = { keyId: options.keyId, runUrl: options.runUrl, previous: null };
  // An account the index cannot answer for is looked up as a matrix job would: requests.
  if (index && !index.peek(result)) gate(api, index, { writes: 0, requests: 2 }, 'update');
  const [found, ...duplicates] = await finder.open(result, listed);
  let open = found;
  // An issue opened without its labels (no permission to set them) is not found by label.
  if (!open && listed && options.labels.length > 0) {
    gate(api, index, CREATE_COST, 'open');
    [open] = (await finder.unlabeled(result)).sort((a, b) => a.number - b.number);
  }
  if (open) {
    progress.issue = open;
    if (beforeRender) result = await beforeRender(result, accountMarker(open.body, result));
    const plan = planForIssue(result, open, options, ctx);
    const label = lacksAccountLabel(open, options, result.account.id) && finder.adopt(open, result);
    const deactivated = deactivationComment(result, ctx);
    const comment = deactivated && !open.locked ? [DEACTIVATION_COST] : [];
    const cost = [issueCost(plan), ...duplicates.map(() => DUPLICATE_COST), ...(label ? [LABEL_COST] : []), ...comment];
    gate(api, index, sum(cost), plan.action === 'close' ? 'close' : 'update');
    for (const dup of duplicates) await closeAsDuplicate(api, dup, open.number, log);
    const outcome = await carryOut(api, plan, result, log, progress);
    // Each deactivation is said where the notice was given. Only the run that changed the key has
    // one to say (another run finds it inactive), so overlapping runs do not say it twice.
    if (deactivated && comment.length > 0) {
      await api.addComment(open.number, deactivated);
      log.info(`Said on #${open.number} which keys were deactivated after notice.`);
    }
    if (label) {
      progress.finished = outcome;
      await labelAccountIssue(api, open, result.account.id, log);
    }
    return outcome;
  }
  if (!listed) return outcome('none', null, false);
  if (beforeRender) {
    result = await beforeRender(result, null);
    if (listedCount(result.judgement) === 0) return outcome('none', null, false);
  }

  gate(api, index, CREATE_COST, 'open');
  ctx.previous = await finder.previous(result);
  const plan = planTracking(result, null, options, ctx);
  if (plan.action !== 'create') throw new Error(`unexpected plan ${plan.action}`);
  const created = await create(api, plan.title, plan.body, result.account.id, options, log);
  Object.assign(progress, { issue: created, done: 'created', changed: true });
  log.info(`Opened tracking issue #${created.number}.`);

  // A run for the same account may have opened one at the same time. Every run closes only
  // its own issue when an older one exists, so overlapping runs converge on the oldest.
  const [first] = await findOpen(api, result, options);
  if (first && first.number < created.number) {
    await closeAsDuplicate(api, created, first.number, log);
    Object.assign(progress, { issue: first, done: null, changed: false });
    return carryOut(api, planForIssue(result, first, options, ctx), result, log, progress);
  }
  return outcome('created', created, true);
}

/**
 * The account's open issues carrying its account label, oldest first: one request, as a rule. The
 * labels vouch for a title.
 */
async function findOpen(api: IssuesApi, result: ScanResult, options: TrackingOptions): Promise<IssueRecord[]> {
  const listed = await api.listOpen([...options.labels, accountIssueLabel(result.account.id)]);
  return listed.filter((i) => ownIssue(i, result, options.titleTemplate) !== null).sort((a, b) => a.number - b.number);
}

function issueCost(plan: IssuePlan): Cost {
  switch (plan.action) {
    case 'unchanged':
      return { writes: 0, requests: 0 };
    case 'update':
      // The announcement reads the newest comments before and after posting it.
      return plan.announce && !plan.issue.locked ? { writes: 2, requests: 6 } : { writes: 1, requests: 1 };
    case 'close':
      return plan.issue.locked ? { writes: 1, requests: 1 } : { writes: 2, requests: 6 };
  }
}

function sum(costs: readonly Cost[]): Cost {
  return costs.reduce((a, b) => ({ writes: a.writes + b.writes, requests: a.requests + b.requests }), {
    writes: 0,
    requests: 0,
  });
}

/**
 * Before an account's first request: defers it when the run has stopped, its time is up, its write
 * budget cannot pay for the account's writes, or GitHub's rate limit has too few requests left.
 */
function gate(api: IssuesApi, index: TrackingIndex | null, cost: Cost, verb: string): void {
  if (cost.requests === 0) return;
  if (index?.halt) throw new Deferral(index.halt.action, index.halt.reason, verb);
  if (api.deadline.signal.aborted) {
    throw new Deferral('deferred', `the ${duration(api.deadline.ms)} allowed for GitHub in this run ran out`, verb);
  }
  if (api.writes.remaining() < cost.writes) throw new Deferral('deferred', budgetReason(api), verb);
  const rate = api.rateLimit();
  if (rate && rate.remaining < cost.requests && rate.resetAt > Date.now()) {
    const reason = `GitHub's rate limit had ${plural(rate.remaining, 'request', 'requests')} left until ${new Date(rate.resetAt).toISOString().slice(11, 16)} UTC`;
    if (index) index.halt = { action: 'deferred', reason };
    throw new Deferral('deferred', reason, verb);
  }
}

function budgetReason(api: IssuesApi): string {
  return `GitHub's write budget for this run (${count(api.writes.budget)} writes) was spent`;
}

/** A stop that holds for every account after it in the run, or `null`. */
function haltFor(err: unknown, why: string, api: IssuesApi): Halt | null {
  if (err instanceof DeadlineError) {
    return { action: 'deferred', reason: `the ${duration(api.deadline.ms)} allowed for GitHub in this run ran out` };
  }
  if (isForbiddenIntegration(err)) return { action: 'failed', reason: why };
  if (/^GitHub's (secondary )?rate limit/.test(why)) return { action: 'deferred', reason: why };
  return null;
}

/** The outcome of an account the run did not start on: said as a warning by a matrix job, else left to the run's one warning. */
function deferred(d: Deferral, progress: Progress, log: TrackingLog, index: TrackingIndex | null): TrackingOutcome {
  const problem = d.action === 'deferred' ? `${d.reason}: the next run will ${d.verb} it` : d.reason;
  const issue = progress.issue ? `Tracking issue #${progress.issue.number}` : 'The tracking issue';
  const message = `${issue} was not brought up to date: ${problem}.`;
  if (index) log.info(message);
  else log.warning(message);
  return {
    action: progress.done ?? d.action,
    number: progress.issue?.number ?? null,
    url: progress.issue?.url ?? null,
    changed: progress.changed,
    problem,
  };
}

/** Makes the writes a plan for an existing issue calls for, one at a time, in a safe order. */
async function carryOut(
  api: IssuesApi,
  plan: IssuePlan,
  result: ScanResult,
  log: TrackingLog,
  progress: Progress,
): Promise<TrackingOutcome> {
  const { issue } = plan;
  switch (plan.action) {
    case 'unchanged':
      log.info(`Tracking issue #${issue.number} is up to date.`);
      return outcome('unchanged', issue, false);

    case 'update': {
      // Announce first: a body that records a set of keys means that set was announced.
      let changed: boolean | null = plan.restored ? null : false;
      if (plan.announce) changed = await announce(api, issue, plan.announce, result, log, progress);
      await api.updateIssue(issue.number, { body: plan.body });
      Object.assign(progress, { done: 'updated' });
      if (plan.restored) {
        log.info(`Restored the hidden marker of tracking issue #${issue.number}: it was missing or broken.`);
      }
      log.info(`Updated tracking issue #${issue.number}${changed ? ' and announced what changed' : ''}.`);
      return outcome('updated', issue, changed);
    }

    case 'close': {
      // One write makes the issue consistent: resolved body and closed state together.
      await api.updateIssue(issue.number, { body: plan.body, state: 'closed', stateReason: 'completed' });
      Object.assign(progress, { done: 'closed', changed: true });
      log.info(`Closed tracking issue #${issue.number}: no stale keys remain.`);
      const changed = await announce(api, issue, plan.announce, result, log, progress);
      return outcome('closed', issue, changed);
    }
  }
}

/**
 * Posts the announcement of `a.digest` unless the issue's newest comments already have it, then
 * deletes its own again if an earlier one of the same change stands: overlapping runs leave one.
 * Returns whether this run's announcement is the one that stands (`null`: unknown). A locked
 * issue takes no comments: the body alone says what changed.
 */
async function announce(
  api: IssuesApi,
  issue: TrackedIssue,
  a: Announcement,
  result: ScanResult,
  log: TrackingLog,
  progress: Progress,
): Promise<boolean | null> {
  const account = result.account.id;
  if (issue.locked) {
    log.info(`Tracking issue #${issue.number} is locked, so what changed is not commented on; its body has it.`);
    return true;
  }
  const before = await api.newestComments(issue.number, issue.comments);
  if (latestAnnounced(before, account) === a.digest) {
    log.info(`The change is already announced on #${issue.number}, by an earlier or overlapping run.`);
    return false;
  }
  let posted: CommentRecord;
  try {
    posted = await api.addComment(issue.number, a.comment);
  } catch (err) {
    if (isLocked(err)) {
      log.info(`Tracking issue #${issue.number} is locked, so what changed is not commented on; its body has it.`);
      return true;
    }
    if (!answerLost(err)) throw err;
    // GitHub may have posted it: look before the next run tries again.
    const after = await api.newestComments(issue.number, issue.comments + 1);
    if (standingAnnouncement(after, account, a.digest) === null) throw err;
    log.info(`${describeGithubError(err)}, yet the change is announced on #${issue.number}.`);
    return null;
  }
  progress.changed = true;
  const after = await api.newestComments(issue.number, issue.comments + 1);
  const standing = standingAnnouncement(after, account, a.digest);
  if (standing !== null && standing !== posted.id) {
    await api.deleteComment(posted.id);
    progress.changed = false;
    log.info(`An overlapping run announced the same change on #${issue.number} first: removed this run's comment.`);
    return false;
  }
  return true;
}

/** Closes first, then says why: a locked duplicate is closed all the same. */
async function closeAsDuplicate(api: IssuesApi, dup: IssueRecord, of: number, log: TrackingLog): Promise<void> {
  await api.updateIssue(dup.number, { state: 'closed', stateReason: 'duplicate' });
  if (!dup.locked) {
    try {
      await api.addComment(dup.number, `Closing as a duplicate of #${of}, which tracks the same account.`);
    } catch (err) {
      if (!isLocked(err)) throw err;
    }
  }
  log.info(`Closed #${dup.number} as a duplicate of #${of}.`);
}

/**
 * Opens the issue. A create whose answer was lost (5xx, no answer) may have succeeded: the issue
 * is looked up by its body before another attempt, so a lost answer never leaves a duplicate.
 */
async function create(
  api: IssuesApi,
  title: string,
  body: string,
  accountId: string,
  options: TrackingOptions,
  log: TrackingLog,
): Promise<IssueRecord> {
  const account = accountIssueLabel(accountId);
  let labels = [...options.labels, account];
  let labelProblem: string | null = null;
  try {
    for (const label of options.labels) await api.ensureLabel(label);
    // A new account's label: created without asking first, once per account (422: it exists).
    await api.createLabel(account, accountLabelDescription(accountId));
  } catch (err) {
    if (err instanceof DeadlineError) throw err;
    // Said once the issue exists: if the token cannot write issues at all, that is the one warning.
    labelProblem = describeGithubError(err);
    labels = [];
  }
  let assignees = options.assignees;
  let issue: IssueRecord | null = null;
  for (let attempt = 1; !issue; attempt++) {
    try {
      issue = await api.createIssue({ title, body, labels, assignees });
    } catch (err) {
      if (status(err) === 422 && (assignees.length > 0 || labels.length > 0)) {
        log.warning(
          `GitHub refused the tracking issue's labels or assignees (${describeGithubError(err)}); opening it without them. Check issue-assignees: each must be able to be assigned in this repository.`,
        );
        labels = [];
        assignees = [];
        continue;
      }
      if (!answerLost(err)) throw err;
      log.info(`${describeGithubError(err)}; looking for the issue before trying again.`);
      // Newest first: an issue just opened is on the first page, labelled or not.
      issue = (await api.listNewest([], 'open', 1)).find((i) => i.body === body) ?? null;
      if (issue) log.info(`GitHub had opened it: #${issue.number}.`);
      else if (attempt >= CREATE_ATTEMPTS) throw err;
    }
  }
  if (labelProblem) {
    log.warning(
      `Opened tracking issue #${issue.number} without its labels ${[...options.labels, account].join(', ')}: they could not be created (${labelProblem}). Create them once by hand, or give the token permission to; later runs still find the issue by its marker.`,
    );
  }
  return issue;
}

/** Says once why the run stopped, and reports what it had done. */
function stopped(err: unknown, api: IssuesApi, progress: Progress, log: TrackingLog): TrackingOutcome {
  let why = describeGithubError(err);
  const last = api.lastProblem();
  if (err instanceof DeadlineError && last) why = `${why} (${last})`;
  // A rate limit not waited out: the reason is what matters, not the 403.
  else if (last?.startsWith("GitHub's") && /rate limit/i.test(why)) why = last;
  const issue = progress.issue ? `tracking issue #${progress.issue.number}` : 'the tracking issue';
  if (isForbiddenIntegration(err)) {
    log.warning(
      `The token cannot write issues (${why}), so the tracking issue was not updated. Grant the job "permissions: issues: write", or set issue to false.`,
    );
  } else if (progress.done) {
    log.warning(
      `The run ${progress.done} ${issue} but could not finish: ${why}. The next run will finish it; the scan's results are complete.`,
    );
  } else {
    log.warning(
      `${capitalize(issue)} was not updated: ${why}. The next run will update it; the scan's results are complete.`,
    );
  }
  return {
    action: progress.done ?? 'failed',
    number: progress.issue?.number ?? null,
    url: progress.issue?.url ?? null,
    changed: progress.changed,
    problem: why,
  };
}

/** The token has no issues: write at all: nothing else will work either. */
export function isForbiddenIntegration(err: unknown): boolean {
  return status(err) === 403 && /not accessible by integration/i.test(message(err));
}

/** GitHub's answer to a comment on a locked conversation. */
function isLocked(err: unknown): boolean {
  return status(err) === 403 && /locked/i.test(message(err));
}

/** A 5xx, or no answer at all: the request may have taken effect. */
function answerLost(err: unknown): boolean {
  if (err instanceof DeadlineError) return false;
  if (err instanceof NoAnswerError || (err as { cause?: unknown }).cause instanceof NoAnswerError) return true;
  const e = err as { status?: number; response?: unknown; request?: unknown };
  return (e.status ?? 0) >= 500 || (e.request !== undefined && e.response === undefined);
}

function outcome(
  action: IssueAction,
  issue: { number: number; url: string } | null,
  changed: boolean | null,
): TrackingOutcome {
  return { action, number: issue?.number ?? null, url: issue?.url ?? null, changed, problem: null };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
