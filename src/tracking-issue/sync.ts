/**
 * Keeps one open tracking issue per repository and account, within the GitHub client's deadline:
 * finds it by label and hidden marker (or, when a person broke the marker, by label and title),
 * then carries out the plan from core/tracking.ts one write at a time, in an order that leaves
 * the issue consistent wherever a run stops. Overlapping runs converge to one open issue and one
 * announcement per change. A failure, or the deadline, is said once as a warning and reported in
 * the outcome with what was done: it never throws.
 */
import { describeGithubError, DeadlineError, NoAnswerError } from './github-client.js';
import { status, type CommentRecord, type IssueRecord, type IssuesApi } from './issues-api.js';
import type { KeyIdStyle } from '../render/present.js';
import type { ScanResult } from '../account/result.js';
import {
  latestAnnounced,
  ownIssue,
  planForIssue,
  planTracking,
  standingAnnouncement,
  type Announcement,
  type IssuePlan,
  type RenderContext,
} from './plan.js';

/**
 * What the run did to the tracking issue. `failed`: it could not bring the issue up to date (a
 * warning says why); the next run will.
 */
export type IssueAction = 'created' | 'updated' | 'unchanged' | 'closed' | 'none' | 'failed';

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

export interface TrackingOptions {
  titleTemplate: string;
  labels: string[];
  assignees: string[];
  closeResolved: boolean;
  keyId: KeyIdStyle;
  runUrl: string | null;
}

export interface TrackingLog {
  info: (message: string) => void;
  warning: (message: string) => void;
}

/** What the run has done so far, for the outcome when it stops part-way. */
interface Progress {
  issue: { number: number; url: string } | null;
  done: 'created' | 'updated' | 'closed' | null;
  changed: boolean | null;
}

/** How many newest open issues (100 a page) are searched for one that lost its labels. */
const UNLABELED_PAGES = 2;
/** Attempts to create the issue, each after looking for it. */
const CREATE_ATTEMPTS = 2;

export async function syncTrackingIssue(
  api: IssuesApi,
  result: ScanResult,
  options: TrackingOptions,
  log: TrackingLog,
): Promise<TrackingOutcome> {
  const progress: Progress = { issue: null, done: null, changed: null };
  try {
    return await api.deadline.race(track(api, result, options, log, progress));
  } catch (err) {
    return stopped(err, api, progress, log);
  }
}

async function track(
  api: IssuesApi,
  result: ScanResult,
  options: TrackingOptions,
  log: TrackingLog,
  progress: Progress,
): Promise<TrackingOutcome> {
  const mine = (issues: IssueRecord[], byTitle: boolean) =>
    issues.filter((i) => {
      const own = ownIssue(i, result, options.titleTemplate);
      return own === 'marker' || (byTitle && own === 'title');
    });
  // A title names the account only together with the labels: never take a person's unlabeled issue.
  const findOpen = async () => mine(await api.listOpen(options.labels), options.labels.length > 0);
  const ctx: RenderContext = { keyId: options.keyId, runUrl: options.runUrl, previous: null };

  let open = await keepOldest(api, await findOpen(), log);
  // An issue opened without its labels (no permission to set them) is not found by label.
  if (!open && result.judgement.stale.length > 0 && options.labels.length > 0) {
    open = oldest(mine(await api.listNewest([], 'open', UNLABELED_PAGES), false));
  }
  if (open) {
    progress.issue = open;
    return carryOut(api, planForIssue(result, open, options, ctx), result, log, progress);
  }
  if (result.judgement.stale.length === 0) return outcome('none', null, false);

  ctx.previous = await previousIssue(api, options.labels, mine);
  const plan = planTracking(result, null, options, ctx);
  if (plan.action !== 'create') throw new Error(`unexpected plan ${plan.action}`);
  const created = await create(api, plan.title, plan.body, options, log);
  Object.assign(progress, { issue: created, done: 'created', changed: true });
  log.info(`Opened tracking issue #${created.number}.`);

  // A run for the same account may have opened one at the same time. Every run closes only
  // its own issue when an older one exists, so overlapping runs converge on the oldest.
  const first = oldest(await findOpen());
  if (first && first.number < created.number) {
    await closeAsDuplicate(api, created, first.number, log);
    Object.assign(progress, { issue: first, done: null, changed: false });
    return carryOut(api, planForIssue(result, first, options, ctx), result, log, progress);
  }
  return outcome('created', created, true);
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
  issue: IssueRecord,
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

/** Closes every open tracking issue of the account but the oldest, as duplicates of it. */
async function keepOldest(api: IssuesApi, open: IssueRecord[], log: TrackingLog): Promise<IssueRecord | null> {
  const [first, ...duplicates] = [...open].sort((a, b) => a.number - b.number);
  for (const dup of duplicates) await closeAsDuplicate(api, dup, first!.number, log);
  return first ?? null;
}

function oldest(issues: IssueRecord[]): IssueRecord | null {
  return [...issues].sort((a, b) => a.number - b.number)[0] ?? null;
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

/** The account's newest closed tracking issue that was not a duplicate, from one page. */
async function previousIssue(
  api: IssuesApi,
  labels: readonly string[],
  mine: (issues: IssueRecord[], byTitle: boolean) => IssueRecord[],
): Promise<{ number: number; url: string } | null> {
  if (labels.length === 0) return null;
  const closed = mine(await api.listNewest(labels, 'closed', 1), true).filter((i) => i.stateReason !== 'duplicate');
  const latest = closed.sort((a, b) => b.number - a.number)[0];
  return latest ? { number: latest.number, url: latest.url } : null;
}

/**
 * Opens the issue. A create whose answer was lost (5xx, no answer) may have succeeded: the issue
 * is looked up by its body before another attempt, so a lost answer never leaves a duplicate.
 */
async function create(
  api: IssuesApi,
  title: string,
  body: string,
  options: TrackingOptions,
  log: TrackingLog,
): Promise<IssueRecord> {
  let labels = options.labels;
  let labelProblem: string | null = null;
  try {
    for (const label of labels) await api.ensureLabel(label);
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
      `Opened tracking issue #${issue.number} without its labels ${options.labels.join(', ')}: they could not be created (${labelProblem}). Create them once by hand, or give the token permission to; later runs still find the issue by its marker.`,
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
