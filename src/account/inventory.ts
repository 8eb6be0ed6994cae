/**
 * The inventory: every IAM user's access keys, by the credential report (a few calls for the whole
 * account, then live confirmation of the users it flags) or user by user through the API.
 *
 * Fail closed: a call that is denied or keeps failing never ends the scan with less than it says.
 * What could not be seen is recorded as a gap (`Inventory.coverage`) with the permission that
 * closes it; only a fault that makes the whole scan meaningless (an expired session) is thrown.
 */
import pLimit from 'p-limit';
import {
  awsErrorCode,
  describeAwsFailure,
  errorMessage,
  isAccessDenied,
  isExpiredSession,
  isTransient,
} from '../aws/errors.js';
import type { IamApi, LastUse, LiveKey } from '../aws/iam.js';
import { parseCredentialReport } from './credential-report.js';
import { count, plural } from '../render/markdown.js';
import { utcMinute } from './result.js';
import { ROOT_USER, type AccessKey, type Coverage, type Gap, type Inventory } from '../model.js';
import type { Sleep } from '../retry.js';

/** `scan-method`: the credential report, the API user by user, or the report with the API as fallback. */
export type ScanMethodInput = 'auto' | 'credential-report' | 'api';

export interface InventoryDeps {
  iam: IamApi;
  sleep: Sleep;
  /** Given keys, the users worth a closer look (those with a stale key). */
  usersToConfirm: (keys: readonly AccessKey[]) => Set<string>;
  /** Whether the judgement depends on last use (`max-unused-days` is on). Otherwise last use is only fetched for flagged keys. */
  lastUseMatters: boolean;
  info: (message: string) => void;
  warning: (message: string) => void;
  /** Concurrent IAM calls for per-user work. */
  concurrency?: number;
  /** How long to wait for a credential report before giving up on it. */
  reportTimeoutMs?: number;
  /** The first pause before looking at a report being generated again (default 500 ms). */
  reportFirstPollMs?: number;
  /** The session's length, for the fix when it expires mid-scan; `null` for credentials from the environment. */
  roleDurationSeconds?: number | null;
}

/** Concurrent IAM calls for per-user work, unless told otherwise. */
export const DEFAULT_CONCURRENCY = 8;
const DEFAULT_REPORT_TIMEOUT_MS = 120_000;
const DEFAULT_FIRST_POLL_MS = 500;
/** The organisation mode's first pause: see `reportPause`. */
export const ORGANISATION_FIRST_POLL_MS = 2000;
/** Fetches of a finished report that may fail in transit before the scan gives up. */
const MAX_REPORT_FAULTS = 3;
const REPORT_PERMISSIONS = 'iam:GenerateCredentialReport and iam:GetCredentialReport';

/** The report could not be had: refused, or never ready. `auto` falls back to the API on either. */
class ReportUnavailableError extends Error {
  override name = 'ReportUnavailableError';
  constructor(
    message: string,
    readonly why: 'denied' | 'timeout',
  ) {
    super(message);
  }
}

/** The session ran out mid-scan: every later call would fail the same way. */
export class SessionExpiredError extends Error {
  override name = 'SessionExpiredError';
}

export async function takeInventory(method: ScanMethodInput, deps: InventoryDeps): Promise<Inventory> {
  if (method === 'api') return scanByApi(deps, []);
  try {
    return await scanByReport(deps);
  } catch (err) {
    if (!(err instanceof ReportUnavailableError)) throw err;
    if (method === 'auto') {
      const note =
        err.why === 'denied'
          ? `The credential report was denied (${err.message}), so keys were listed user by user. Grant ${REPORT_PERMISSIONS} for a faster scan.`
          : `${err.message}, so keys were listed user by user instead.`;
      deps.warning(note);
      return scanByApi(deps, [note]);
    }
    return nothingSeen(err);
  }
}

/** `scan-method: credential-report` without a report: nothing was seen, and the summary says why. */
function nothingSeen(err: ReportUnavailableError): Inventory {
  const gap: Gap =
    err.why === 'denied'
      ? {
          what: `The credential report was denied (${err.message}), so no keys were checked`,
          fix: `Grant ${REPORT_PERMISSIONS}, or set scan-method to auto`,
          couldHideStale: true,
        }
      : {
          what: `${err.message}, so no keys were checked`,
          fix: 'Run again later, or set scan-method to auto to fall back to listing keys user by user',
          couldHideStale: true,
        };
  return {
    method: 'credential-report',
    userCount: 0,
    keys: [],
    reportGeneratedAt: null,
    confirmedUsers: 0,
    notes: [],
    coverage: { gaps: [gap], unseenUsers: 'all', rootChecked: false },
  };
}

/** Generate (or reuse) the report, polling with a growing pause until it is complete. */
async function fetchReport(deps: InventoryDeps): Promise<{ csv: string; generatedAt: Date | null }> {
  try {
    return await pollReport(deps);
  } catch (err) {
    if (err instanceof ReportUnavailableError) throw err;
    expiredIsFatal(err, 'fetching the credential report', deps);
    if (isAccessDenied(err)) throw new ReportUnavailableError(errorMessage(err), 'denied');
    throw new Error(describeAwsFailure(err, 'fetching the credential report', deps), { cause: err });
  }
}

const REGENERATE =
  /^(CredentialReportNotPresent|CredentialReportExpired|CredentialReportNotReady|ReportNotPresent|ReportExpired|ReportInProgress)$/;

async function pollReport(deps: InventoryDeps): Promise<{ csv: string; generatedAt: Date | null }> {
  const timeoutMs = deps.reportTimeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS;
  let waited = 0;
  let faults = 0;
  for (let poll = 0; ; poll++) {
    let state: string;
    try {
      state = await deps.iam.generateCredentialReport();
    } catch (err) {
      // Too many generation requests at once (another scan of this account): just wait.
      if (awsErrorCode(err) !== 'LimitExceeded' && awsErrorCode(err) !== 'ReportGenerationLimitExceeded') throw err;
      state = 'INPROGRESS';
    }
    if (state === 'COMPLETE') {
      try {
        return await deps.iam.getCredentialReport();
      } catch (err) {
        // The report expired or is being replaced between the two calls: generate again. An
        // answer that failed or was cut off in transit (past the SDK's own retries): fetch again, a few times.
        if (!REGENERATE.test(awsErrorCode(err)) && !(isTransient(err) && ++faults <= MAX_REPORT_FAULTS)) throw err;
        if (!REGENERATE.test(awsErrorCode(err)))
          deps.info(`Fetching the credential report failed (${errorMessage(err)}); trying again.`);
      }
    }
    const pause = reportPause(poll, deps.reportFirstPollMs);
    if (waited + pause > timeoutMs) {
      throw new ReportUnavailableError(
        `The credential report was not ready after ${Math.round(waited / 1000)} s (IAM may be busy)`,
        'timeout',
      );
    }
    await deps.sleep(pause);
    waited += pause;
  }
}

/**
 * The pause before the next look at a report being generated: `firstMs`, then doubling up to 5 s.
 * A single account waits 500 ms first (a person waits on the job); the organisation mode waits 2 s,
 * as long as IAM takes even for a small account, since its accounts overlap and an early look only
 * costs a request an account.
 */
export function reportPause(poll: number, firstMs = DEFAULT_FIRST_POLL_MS): number {
  return Math.min(poll === 0 ? firstMs : Math.max(firstMs, 500 * 2 ** poll), 5000);
}

/** Per-user calls that failed, by what failed, for one gap per cause. */
class Failures {
  private readonly byCause = new Map<string, { permission: string; code: string; users: string[] }>();

  add(permission: string, user: string, err: unknown): void {
    const code = isAccessDenied(err) ? 'AccessDenied' : awsErrorCode(err);
    const key = `${permission} ${code}`;
    const entry = this.byCause.get(key) ?? { permission, code, users: [] };
    entry.users.push(user);
    this.byCause.set(key, entry);
  }

  get users(): Set<string> {
    return new Set([...this.byCause.values()].flatMap((e) => e.users));
  }

  /** One gap per cause: `what` says what could not be seen and why, `fix` what closes it. */
  gaps(what: (users: string, cause: string) => string, couldHideStale: boolean): Gap[] {
    return [...this.byCause.values()].map(({ permission, code, users }) => ({
      what: what(
        userList(users),
        code === 'AccessDenied' ? `${permission} was denied` : `${permission} failed: ${code}`,
      ),
      fix: code === 'AccessDenied' ? `Grant ${permission}` : 'Run again: IAM kept failing after retries',
      couldHideStale,
    }));
  }
}

/** `3 users (alice, bob, carol)`, at most ten names. */
function userList(users: readonly string[]): string {
  const sorted = [...users].sort((a, b) => a.localeCompare(b, 'en'));
  const shown = sorted.slice(0, 10).join(', ');
  const more = sorted.length > 10 ? ` and ${count(sorted.length - 10)} more` : '';
  return `${plural(users.length, 'user', 'users')} (${shown}${more})`;
}

/** An expired session ends the scan: every call after it would fail the same way. */
function expiredIsFatal(err: unknown, step: string, deps: InventoryDeps): void {
  if (!isExpiredSession(err)) return;
  throw new SessionExpiredError(describeAwsFailure(err, step, { roleDurationSeconds: deps.roleDurationSeconds }), {
    cause: err,
  });
}

async function scanByReport(deps: InventoryDeps): Promise<Inventory> {
  const report = await fetchReport(deps);
  const parsed = parseCredentialReport(report.csv);
  const flagged = deps.usersToConfirm(parsed.keys);
  flagged.delete(ROOT_USER); // IAM has no live listing of the root user's keys.
  deps.info(
    `Credential report${report.generatedAt ? ` of ${utcMinute(report.generatedAt)}` : ''}: ${plural(parsed.userCount, 'user', 'users')}, ${plural(parsed.keys.length, 'key', 'keys')}; confirming ${plural(flagged.size, 'flagged user', 'flagged users')} live.`,
  );

  const fromReport = new Map<string, AccessKey[]>();
  const keys: AccessKey[] = [];
  for (const key of parsed.keys) {
    if (!flagged.has(key.user)) {
      keys.push(key);
      continue;
    }
    const list = fromReport.get(key.user) ?? [];
    list.push(key);
    fromReport.set(key.user, list);
  }

  const unconfirmed = new Failures();
  const lastUse = new Failures();
  const limit = pLimit(deps.concurrency ?? DEFAULT_CONCURRENCY);
  const confirmed = await Promise.all(
    [...flagged].map((user) =>
      limit(async () => {
        const reported = fromReport.get(user) ?? [];
        try {
          return await confirmUser(deps, user, reported, lastUse);
        } catch (err) {
          expiredIsFatal(err, `listing the access keys of ${user}`, deps);
          // The report's own view of the user still judges the keys; only their IDs are missing.
          unconfirmed.add('iam:ListAccessKeys', user, err);
          return reported;
        }
      }),
    ),
  );
  for (const list of confirmed) keys.push(...list);

  const at = report.generatedAt ? ` of ${utcMinute(report.generatedAt)}` : '';
  const gaps = [
    ...unconfirmed.gaps(
      (users, cause) =>
        `The keys of ${users} were not confirmed live (${cause}): they are shown as the credential report${at} has them, without key IDs`,
      false,
    ),
    ...lastUse.gaps(
      (users, cause) => `The last use of keys created since the report could not be read for ${users} (${cause})`,
      false,
    ),
  ];
  return {
    method: 'credential-report',
    userCount: parsed.userCount,
    keys,
    reportGeneratedAt: report.generatedAt,
    confirmedUsers: flagged.size - unconfirmed.users.size,
    notes: [],
    // The report has a row for every user and for the root user: nothing is unseen.
    coverage: { gaps, unseenUsers: new Set(), rootChecked: true },
  };
}

/**
 * The live state of one user's keys. The report has no key IDs and may be hours old, so a key
 * rotated since is seen as it is now. Last use comes from the report for the same key (same
 * creation time), or live for a key the report does not know.
 */
async function confirmUser(
  deps: InventoryDeps,
  user: string,
  reported: readonly AccessKey[],
  lastUse: Failures,
): Promise<AccessKey[]> {
  const live = await deps.iam.listAccessKeys(user);
  if (live === null) return []; // Deleted since the report.
  return Promise.all(
    live.map(async (key) => {
      const match = reported.find(
        (r) => r.createDate && Math.abs(r.createDate.getTime() - key.createDate.getTime()) < 1000,
      );
      if (match) return fromLive(key, match);
      return fromLive(key, lastUseFields(await lastUseOrUnknown(deps, key.user, key.accessKeyId, lastUse)));
    }),
  );
}

/** Last use of one key; when it cannot be read it is left unknown and the failure recorded. */
async function lastUseOrUnknown(
  deps: InventoryDeps,
  user: string,
  accessKeyId: string,
  failures: Failures,
): Promise<LastUse | null> {
  try {
    return await deps.iam.getAccessKeyLastUsed(accessKeyId);
  } catch (err) {
    expiredIsFatal(err, `reading the last use of a key of ${user}`, deps);
    failures.add('iam:GetAccessKeyLastUsed', user, err);
    return null;
  }
}

type LastUseFields = Pick<AccessKey, 'lastUsedDate' | 'lastUsedService' | 'lastUsedRegion' | 'lastUseKnown'>;

function lastUseFields(use: LastUse | null): LastUseFields {
  if (!use) return { lastUsedDate: null, lastUsedService: null, lastUsedRegion: null, lastUseKnown: false };
  return { lastUsedDate: use.date, lastUsedService: use.service, lastUsedRegion: use.region, lastUseKnown: true };
}

function fromLive(key: LiveKey, use: LastUseFields): AccessKey {
  return {
    user: key.user,
    accessKeyId: key.accessKeyId,
    status: key.status,
    createDate: key.createDate,
    lastUsedDate: use.lastUsedDate,
    lastUsedService: use.lastUsedService,
    lastUsedRegion: use.lastUsedRegion,
    lastUseKnown: use.lastUseKnown,
    root: false,
  };
}

async function scanByApi(deps: InventoryDeps, notes: string[]): Promise<Inventory> {
  const gaps: Gap[] = [];
  let users: string[] | null;
  try {
    users = await deps.iam.listUserNames();
    deps.info(`Listed ${plural(users.length, 'IAM user', 'IAM users')}; listing their keys.`);
  } catch (err) {
    expiredIsFatal(err, 'listing the IAM users', deps);
    users = null;
    gaps.push({
      what: `The IAM users could not be listed (iam:ListUsers ${isAccessDenied(err) ? 'was denied' : `failed: ${awsErrorCode(err)}`}), so no user's keys were checked`,
      fix: isAccessDenied(err) ? 'Grant iam:ListUsers' : 'Run again: IAM kept failing after retries',
      couldHideStale: true,
    });
  }

  const limit = pLimit(deps.concurrency ?? DEFAULT_CONCURRENCY);
  const unlisted = new Failures();
  const live = (
    await Promise.all(
      (users ?? []).map((user) =>
        limit(async () => {
          try {
            return (await deps.iam.listAccessKeys(user)) ?? [];
          } catch (err) {
            expiredIsFatal(err, `listing the access keys of ${user}`, deps);
            unlisted.add('iam:ListAccessKeys', user, err);
            return [];
          }
        }),
      ),
    )
  ).flat();
  gaps.push(...unlisted.gaps((list, cause) => `The keys of ${list} could not be listed (${cause})`, true));
  const keys = live.map((key) => fromLive(key, lastUseFields(null)));

  // Last use costs one call a key: make it only where it can change a verdict or will be shown.
  const withLastUse = new Set<AccessKey>();
  const lastUse = new Failures();
  const fetchLastUse = (targets: AccessKey[]) =>
    Promise.all(
      targets
        .filter((key) => !withLastUse.has(key))
        .map((key) =>
          limit(async () => {
            withLastUse.add(key);
            const use = await lastUseOrUnknown(deps, key.user, key.accessKeyId!, lastUse);
            Object.assign(key, lastUseFields(use));
          }),
        ),
    );
  if (deps.lastUseMatters) await fetchLastUse(keys.filter((k) => k.status === 'Active'));
  const flagged = deps.usersToConfirm(keys);
  await fetchLastUse(keys.filter((k) => flagged.has(k.user)));
  if (!deps.lastUseMatters) {
    notes.push(
      'Last use was looked up only for the keys of users with a stale key (max-unused-days is off): other keys show none.',
    );
  }
  gaps.push(...lastUse.gaps((list, cause) => `The last use of keys of ${list} could not be read (${cause})`, false));

  // ListUsers does not include the root user; the account summary says whether it has keys.
  let rootChecked = true;
  try {
    if (await deps.iam.rootAccessKeysPresent()) keys.push(rootKeyOfUnknownDate());
  } catch (err) {
    expiredIsFatal(err, 'checking for root access keys', deps);
    rootChecked = false;
    gaps.push({
      what: `Root access keys were not checked (iam:GetAccountSummary ${isAccessDenied(err) ? 'was denied' : `failed: ${awsErrorCode(err)}`})`,
      fix: `Grant iam:GetAccountSummary, or ${REPORT_PERMISSIONS} (the report has the root user's keys)`,
      couldHideStale: true,
    });
  }

  const coverage: Coverage = { gaps, unseenUsers: users === null ? 'all' : unlisted.users, rootChecked };
  return {
    method: 'api',
    userCount: users?.length ?? 0,
    keys,
    reportGeneratedAt: null,
    confirmedUsers: flagged.size,
    notes,
    coverage,
  };
}

/** The account summary says only that the root user has keys, not when they were made. */
function rootKeyOfUnknownDate(): AccessKey {
  return {
    user: ROOT_USER,
    accessKeyId: null,
    status: 'Active',
    createDate: null,
    lastUsedDate: null,
    lastUsedService: null,
    lastUsedRegion: null,
    lastUseKnown: false,
    root: true,
  };
}
