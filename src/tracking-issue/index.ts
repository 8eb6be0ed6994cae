/**
 * Finding each account's tracking issue at a cost that does not grow with the accounts sharing the
 * repository.
 *
 * A matrix job (one account) lists the issues carrying the issue labels and the account's label
 * (`aws-account:111111111111`), open and closed, newest first: one request finds the open issue
 * and the closed one a new issue links. An account whose history carries no account label may have
 * an issue opened before account labels: it is looked for once among the open issues with the
 * issue labels, oldest first, and labelled when found, so that later runs take the one request.
 *
 * A run over many accounts (organisation mode) lists the open issues with the issue labels once,
 * every page, and serves every account's lookup from that index: a run where nothing changed costs
 * ⌈open issues / 100⌉ requests in all. What only a new issue needs (the closed issue it links, an
 * issue opened without labels) is looked up when an issue is about to be opened.
 *
 * Either way an issue is the account's by its hidden marker or, when a person broke the marker, by
 * its title among issues with the labels: a team can move between the two modes and keep its
 * issues.
 */
import { DeadlineError, describeGithubError, duration } from './github-client.js';
import type { IssueRecord, IssuesApi } from './issues-api.js';
import type { ScanResult } from '../account/result.js';
import { accountIssueLabel, accountLabelDescription, hasAccountLabel, ownIssue, parseMarker } from './plan.js';

/** What finding needs of the tracking options. */
export interface FindOptions {
  titleTemplate: string;
  labels: string[];
}

export interface FindLog {
  info: (message: string) => void;
  warning: (message: string) => void;
}

/** A closed issue to link from a new one. */
export type PreviousIssue = { number: number; url: string } | null;

/** Where the sync finds an account's issues: its own listing (matrix) or the run's index. */
export interface IssueFinder {
  /**
   * The account's open tracking issues, oldest first. `thorough`: an issue is about to be opened,
   * so one opened before account labels must not be missed.
   */
  open(result: ScanResult, thorough: boolean): Promise<IssueRecord[]>;
  /** The account's open issues that carry no label at all (opened without permission to label), by marker. */
  unlabeled(result: ScanResult): Promise<IssueRecord[]>;
  /** The account's newest closed tracking issue that was not a duplicate, to link from a new one. */
  previous(result: ScanResult): Promise<PreviousIssue>;
  /** The account's open issue lacks its account label: label it now (true), or leave it to the run (false). */
  adopt(issue: IssueRecord, result: ScanResult): boolean;
}

/** How many newest open issues (100 a page) are searched for one that lost its labels. */
const UNLABELED_PAGES = 2;
/** Pages of open issues with the issue labels read for an issue opened before account labels. */
const LEGACY_PAGES = 10;
/** Pages of open issues the run's index reads at most: 2,000 issues. */
const INDEX_PAGES = 20;

/** The issues among `issues` that are the account's: by marker, or by title when the labels vouch for it. */
function mine(issues: readonly IssueRecord[], result: ScanResult, options: FindOptions, byTitle: boolean) {
  return issues.filter((i) => {
    const own = ownIssue(i, result, options.titleTemplate);
    return own === 'marker' || (byTitle && own === 'title');
  });
}

function byNumber(issues: readonly IssueRecord[]): IssueRecord[] {
  const seen = new Set<number>();
  return [...issues].sort((a, b) => a.number - b.number).filter((i) => !seen.has(i.number) && seen.add(i.number));
}

function newestNotDuplicate(issues: readonly IssueRecord[]): PreviousIssue {
  const latest = issues
    .filter((i) => i.state === 'closed' && i.stateReason !== 'duplicate')
    .sort((a, b) => b.number - a.number)[0];
  return latest ? { number: latest.number, url: latest.url } : null;
}

/** Whether the issue carries the issue labels but not the account's: opened before account labels. */
export function lacksAccountLabel(issue: IssueRecord, options: FindOptions, accountId: string): boolean {
  const have = new Set(issue.labels.map((l) => l.toLowerCase()));
  return (
    options.labels.length > 0 &&
    options.labels.every((l) => have.has(l.toLowerCase())) &&
    !have.has(accountIssueLabel(accountId).toLowerCase())
  );
}

/**
 * The account's open issues among those with the issue labels but opened before account labels,
 * oldest first. Every issue opened since carries an account label, and issues are listed oldest
 * first, so unless `thorough`, the search stops at the first page that holds one: in a repository
 * whose issues all carry account labels, one request.
 */
async function legacyOpen(
  api: IssuesApi,
  result: ScanResult,
  options: FindOptions,
  thorough: boolean,
): Promise<IssueRecord[]> {
  const found: IssueRecord[] = [];
  for (let page = 1; page <= LEGACY_PAGES; page++) {
    const { issues, more } = await api.listPage(options.labels, 'open', 'asc', page);
    found.push(...mine(issues, result, options, options.labels.length > 0));
    if (!more || (!thorough && issues.some((i) => hasAccountLabel(i.labels)))) break;
  }
  return found;
}

/** The account's closed issues before account labels: the newest page with the issue labels. */
async function legacyPrevious(api: IssuesApi, result: ScanResult, options: FindOptions): Promise<PreviousIssue> {
  if (options.labels.length === 0) return null;
  return newestNotDuplicate(mine(await api.listNewest(options.labels, 'closed', 1), result, options, true));
}

/** A matrix job's finder: one account, its own listing. */
export function accountFinder(api: IssuesApi, options: FindOptions): IssueFinder {
  // The account's closed issues read along with its open ones, newest first.
  let closed: IssueRecord[] | null = null;
  return {
    async open(result, thorough) {
      const labels = [...options.labels, accountIssueLabel(result.account.id)];
      const { issues, more } = await api.listPage(labels, 'all', 'desc', 1);
      const own = mine(issues, result, options, true);
      closed = own.filter((i) => i.state === 'closed');
      // A long history: its open issues are listed on their own (one page, as a rule).
      const open = more
        ? mine(await api.listOpen(labels), result, options, true)
        : own.filter((i) => i.state === 'open');
      if (own.length > 0 || open.length > 0) return byNumber(open);
      return byNumber(await legacyOpen(api, result, options, thorough));
    },
    async unlabeled(result) {
      return mine(await api.listNewest([], 'open', UNLABELED_PAGES), result, options, false);
    },
    async previous(result) {
      return newestNotDuplicate(closed ?? []) ?? (await legacyPrevious(api, result, options));
    },
    adopt: () => true,
  };
}

/** Why a run stopped writing to GitHub, for every account after. */
export interface Halt {
  action: 'deferred' | 'failed';
  /** Said without the account: `the 900 s allowed for GitHub in this run ran out`. */
  reason: string;
}

/**
 * The run's open tracking issues, listed once (organisation mode). Serves every account's lookup
 * without a request; each account is synced once per index.
 */
export class TrackingIndex {
  /** Why the open issues could not be listed: every account that needs GitHub then fails with it. */
  readonly problem: string | null;
  /** Whether every page was read: when not, an account not found is looked up as a matrix job would. */
  readonly complete: boolean;
  /** Open issues with the issue labels, and the requests that listed them. */
  readonly size: number;
  readonly requests: number;
  /** Set when a stop (the deadline, the write budget, a rate limit, no permission) holds for the rest of the run. */
  halt: Halt | null = null;

  private readonly byAccount = new Map<string, IssueRecord[]>();
  private readonly unmarked: IssueRecord[] = [];
  private unlabeledIssues: Promise<IssueRecord[]> | null = null;
  private closedIssues: Promise<IssueRecord[]> | null = null;
  /** Issues opened before account labels, found by this run, to label when the run's work is done. */
  private readonly toLabel = new Map<number, { issue: IssueRecord; account: string }>();

  constructor(
    private readonly api: IssuesApi,
    private readonly options: FindOptions,
    listed: { issues: IssueRecord[]; complete: boolean; requests: number; problem: string | null },
  ) {
    this.problem = listed.problem;
    this.complete = listed.complete;
    this.size = listed.issues.length;
    this.requests = listed.requests;
    for (const issue of listed.issues) {
      const marker = parseMarker(issue.body);
      if (!marker) {
        this.unmarked.push(issue);
        continue;
      }
      const list = this.byAccount.get(marker.account) ?? [];
      list.push(issue);
      this.byAccount.set(marker.account, list);
    }
  }

  /** The account's open issues as listed, oldest first; `null` when the index cannot say (it stopped at its bound). */
  peek(result: ScanResult): IssueRecord[] | null {
    const found = [
      ...(this.byAccount.get(result.account.id) ?? []),
      ...mine(this.unmarked, result, this.options, this.options.labels.length > 0),
    ];
    return found.length > 0 || this.complete ? byNumber(found) : null;
  }

  /** Issues waiting for their account label. */
  get unlabelledCount(): number {
    return this.toLabel.size;
  }

  finder(): IssueFinder {
    const { api, options } = this;
    return {
      open: async (result, thorough) => {
        const listed = this.peek(result);
        if (listed) return listed;
        return accountFinder(api, options).open(result, thorough);
      },
      unlabeled: async (result) => {
        this.unlabeledIssues ??= api.listNewest([], 'open', UNLABELED_PAGES);
        return mine(await this.unlabeledIssues, result, options, false);
      },
      previous: async (result) => {
        const labels = [...options.labels, accountIssueLabel(result.account.id)];
        const { issues } = await api.listPage(labels, 'closed', 'desc', 1);
        const found = newestNotDuplicate(mine(issues, result, options, true));
        if (found || options.labels.length === 0) return found;
        this.closedIssues ??= api.listNewest(options.labels, 'closed', 1);
        return newestNotDuplicate(mine(await this.closedIssues, result, options, true));
      },
      adopt: (issue, result) => {
        // Labelled at the end of the run, with what is left of its budget: the accounts' changes come first.
        this.toLabel.set(issue.number, { issue, account: result.account.id });
        return false;
      },
    };
  }

  /** Takes the issues waiting for their account label. */
  takeUnlabelled(): Array<{ issue: IssueRecord; account: string }> {
    const all = [...this.toLabel.values()];
    this.toLabel.clear();
    return all;
  }
}

/**
 * Lists the open issues with the issue labels once, every page up to 2,000 issues, for a run over
 * many accounts. Never throws: a failure is said once as a warning and kept in `problem`.
 */
export async function openTrackingIndex(api: IssuesApi, options: FindOptions, log: FindLog): Promise<TrackingIndex> {
  const issues: IssueRecord[] = [];
  let requests = 0;
  try {
    let more = true;
    for (let page = 1; more && page <= INDEX_PAGES; page++) {
      const listed = await api.deadline.race(api.listPage(options.labels, 'open', 'asc', page));
      requests++;
      issues.push(...listed.issues);
      more = listed.more;
    }
    if (more) {
      log.info(
        `More than ${INDEX_PAGES * 100} open issues carry the labels ${options.labels.join(', ')}: accounts whose issue is not among the oldest ${INDEX_PAGES * 100} are looked up one by one.`,
      );
    }
    log.info(`Listed ${issues.length} open tracking issues in ${requests} requests.`);
    return new TrackingIndex(api, options, { issues, complete: !more, requests, problem: null });
  } catch (err) {
    const why = describeGithubError(err);
    log.warning(
      `The tracking issues were not updated: listing them failed (${why}). The next run will update them; the scan's results are complete.`,
    );
    return new TrackingIndex(api, options, { issues: [], complete: false, requests, problem: why });
  }
}

/**
 * Labels the issues opened before account labels that the run found, with what is left of the
 * run's write budget and time: two writes each (the label, made once; then the issue's). Never
 * throws; what is left is labelled by a later run. Returns how many were labelled.
 */
export async function labelLegacyIssues(api: IssuesApi, index: TrackingIndex, log: FindLog): Promise<number> {
  const waiting = index.takeUnlabelled();
  let done = 0;
  for (const { issue, account } of waiting) {
    if (index.halt || api.writes.remaining() < 2 || api.deadline.remainingMs() <= 0) break;
    if (!(await labelAccountIssue(api, issue, account, log))) break;
    done++;
  }
  if (waiting.length > 0) {
    const left = waiting.length - done;
    log.info(
      `Labelled ${done} of ${waiting.length} tracking issues opened before account labels${left > 0 ? `; a later run labels the other ${left}` : ''}.`,
    );
  }
  return done;
}

/** Gives an issue its account label. Never throws: says what went wrong, and whether it was done. */
export async function labelAccountIssue(
  api: IssuesApi,
  issue: { number: number },
  accountId: string,
  log: FindLog,
): Promise<boolean> {
  const label = accountIssueLabel(accountId);
  try {
    await api.deadline.race(
      (async () => {
        await api.createLabel(label, accountLabelDescription(accountId));
        await api.addLabels(issue.number, [label]);
      })(),
    );
    log.info(`Labelled tracking issue #${issue.number} ${label}: later runs find it with one request.`);
    return true;
  } catch (err) {
    const why =
      err instanceof DeadlineError
        ? `the ${duration(api.deadline.ms)} allowed for GitHub ran out`
        : describeGithubError(err);
    log.info(`Could not label tracking issue #${issue.number} ${label} (${why}); a later run will.`);
    return false;
  }
}
