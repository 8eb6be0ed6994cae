/**
 * Keeps one open tracking issue per repository and account: finds it by label and hidden marker,
 * then carries out the plan from core/tracking.ts, one write at a time. Overlapping runs converge
 * to exactly one open issue.
 */
import type { IssueRecord, IssuesApi } from '../github/issues.js';
import type { KeyIdStyle } from '../core/present.js';
import type { ScanResult } from '../core/scan.js';
import { parseMarker, planForIssue, planTracking, type IssuePlan, type RenderContext } from '../core/tracking.js';

export type IssueAction = 'created' | 'updated' | 'unchanged' | 'closed' | 'none';

export interface TrackingOutcome {
  action: IssueAction;
  number: number | null;
  url: string | null;
  /** Whether the set of stale keys changed since the issue last recorded it; `null` when unknown. */
  changed: boolean | null;
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

interface Found {
  /** Open tracking issues of the account, oldest first. */
  open: IssueRecord[];
  /** The account's most recently closed tracking issue that was not a duplicate. */
  previous: IssueRecord | null;
}

async function find(
  api: IssuesApi,
  labels: readonly string[],
  accountId: string,
  state: 'open' | 'all',
): Promise<Found> {
  const mine = (await api.listIssues(labels, state)).filter((i) => parseMarker(i.body)?.account === accountId);
  const closed = mine.filter((i) => i.state === 'closed' && i.stateReason !== 'duplicate');
  return { open: mine.filter((i) => i.state === 'open'), previous: closed.at(-1) ?? null };
}

export async function syncTrackingIssue(
  api: IssuesApi,
  result: ScanResult,
  options: TrackingOptions,
  log: TrackingLog,
): Promise<TrackingOutcome> {
  const accountId = result.account.id;
  const found = await find(api, options.labels, accountId, 'all');
  const open = await keepOldest(api, found.open, log);
  const ctx: RenderContext = {
    keyId: options.keyId,
    runUrl: options.runUrl,
    previous: found.previous ? { number: found.previous.number, url: found.previous.url } : null,
  };
  const plan = planTracking(result, open, options, ctx);
  if (plan.action === 'none') return { action: 'none', number: null, url: null, changed: false };
  if (plan.action !== 'create') return carryOut(api, plan, log);

  // An issue opened without its labels (no permission to set them) is not found by label: look once more.
  const unlabeled = (await find(api, [], accountId, 'open')).open[0];
  if (unlabeled) return carryOut(api, planForIssue(result, unlabeled, options, ctx), log);
  const created = await create(api, plan.title, plan.body, options, log);
  log.info(`Opened tracking issue #${created.number}.`);
  // A run for the same account may have opened one at the same time. Every run closes only
  // its own issue when an older one exists, so overlapping runs converge on the oldest.
  const oldest = (await find(api, options.labels, accountId, 'open')).open[0];
  if (oldest && oldest.number < created.number) {
    await closeAsDuplicate(api, created.number, oldest.number, log);
    return carryOut(api, planForIssue(result, oldest, options, ctx), log);
  }
  return outcome('created', created, true);
}

/** Makes the writes a plan for an existing issue calls for, one at a time. */
async function carryOut(api: IssuesApi, plan: IssuePlan, log: TrackingLog): Promise<TrackingOutcome> {
  switch (plan.action) {
    case 'unchanged':
      log.info(`Tracking issue #${plan.issue.number} is up to date.`);
      return outcome('unchanged', plan.issue, false);
    case 'update':
      await api.updateIssue(plan.issue.number, { body: plan.body });
      if (plan.comment) await api.addComment(plan.issue.number, plan.comment);
      log.info(`Updated tracking issue #${plan.issue.number}${plan.comment ? ' and commented on what changed' : ''}.`);
      return outcome('updated', plan.issue, plan.comment !== null);
    case 'close':
      await api.addComment(plan.issue.number, plan.comment);
      await api.updateIssue(plan.issue.number, { state: 'closed', stateReason: 'completed' });
      log.info(`Closed tracking issue #${plan.issue.number}: no stale keys remain.`);
      return outcome('closed', plan.issue, true);
  }
}

/** Closes every open tracking issue of the account but the oldest, as duplicates of it. */
async function keepOldest(api: IssuesApi, open: IssueRecord[], log: TrackingLog): Promise<IssueRecord | null> {
  const [oldest, ...duplicates] = [...open].sort((a, b) => a.number - b.number);
  for (const dup of duplicates) await closeAsDuplicate(api, dup.number, oldest!.number, log);
  return oldest ?? null;
}

async function closeAsDuplicate(api: IssuesApi, number: number, of: number, log: TrackingLog): Promise<void> {
  await api.addComment(number, `Closing as a duplicate of #${of}, which tracks the same account.`);
  await api.updateIssue(number, { state: 'closed', stateReason: 'duplicate' });
  log.info(`Closed #${number} as a duplicate of #${of}.`);
}

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
    // Said once the issue exists: if the token cannot write issues at all, that is the one warning.
    labelProblem = message(err);
    labels = [];
  }
  let issue: IssueRecord;
  try {
    issue = await api.createIssue({ title, body, labels, assignees: options.assignees });
  } catch (err) {
    if (status(err) !== 422 || (options.assignees.length === 0 && labels.length === 0)) throw err;
    log.warning(
      `GitHub refused the tracking issue's labels or assignees (${message(err)}); opening it without them. Check issue-assignees: each must be able to be assigned in this repository.`,
    );
    return api.createIssue({ title, body, labels: [], assignees: [] });
  }
  if (labelProblem) {
    log.warning(
      `Opened tracking issue #${issue.number} without its labels ${options.labels.join(', ')}: they could not be created (${labelProblem}). Create them once by hand, or give the token permission to; later runs still find the issue by its marker.`,
    );
  }
  return issue;
}

/** The token has no issues: write at all: nothing else will work either. */
export function isForbiddenIntegration(err: unknown): boolean {
  return status(err) === 403 && /not accessible by integration/i.test(message(err));
}

function outcome(action: IssueAction, issue: { number: number; url: string }, changed: boolean): TrackingOutcome {
  return { action, number: issue.number, url: issue.url, changed };
}

function status(err: unknown): number | undefined {
  return (err as { status?: number }).status;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
