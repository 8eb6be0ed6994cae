/**
 * The inventory: every IAM user's access keys, by the credential report (a few calls for the whole
 * account, then live confirmation of the users it flags) or user by user through the API.
 */
import pLimit from 'p-limit';
import { awsErrorCode, errorMessage, isAccessDenied } from './aws/errors.js';
import type { IamApi, LastUse, LiveKey } from './aws/iam.js';
import { parseCredentialReport } from './core/credential-report.js';
import type { ScanMethodInput } from './inputs.js';
import { FULL_COVERAGE, ROOT_USER, type AccessKey, type Inventory } from './model.js';
import type { Sleep } from './retry.js';

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
  /** How long to wait for a credential report before giving up. */
  reportTimeoutMs?: number;
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_REPORT_TIMEOUT_MS = 120_000;

export class ReportTimeoutError extends Error {
  override name = 'ReportTimeoutError';
}

/** The report itself was refused (as opposed to a later, per-user call). */
class ReportDeniedError extends Error {
  override name = 'ReportDeniedError';
}

export async function takeInventory(method: ScanMethodInput, deps: InventoryDeps): Promise<Inventory> {
  if (method === 'api') return scanByApi(deps, []);
  try {
    return await scanByReport(deps);
  } catch (err) {
    if (!(err instanceof ReportDeniedError)) throw err;
    if (method === 'auto') {
      const note = `The credential report was denied (${err.message}), so keys were listed user by user. Grant iam:GenerateCredentialReport and iam:GetCredentialReport for a faster scan.`;
      deps.warning(note);
      return scanByApi(deps, [note]);
    }
    throw new Error(
      `The credential report was denied: ${err.message}. Grant iam:GenerateCredentialReport and iam:GetCredentialReport, or set scan-method to api or auto.`,
      { cause: err },
    );
  }
}

/** Generate (or reuse) the report, polling with a growing pause until it is complete. */
async function fetchReport(deps: InventoryDeps): Promise<{ csv: string; generatedAt: Date | null }> {
  try {
    return await pollReport(deps);
  } catch (err) {
    if (isAccessDenied(err)) throw new ReportDeniedError(errorMessage(err));
    throw err;
  }
}

async function pollReport(deps: InventoryDeps): Promise<{ csv: string; generatedAt: Date | null }> {
  const timeoutMs = deps.reportTimeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS;
  let waited = 0;
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
        // The report expired or is being replaced between the two calls: generate again.
        if (
          !/^(CredentialReportNotPresent|CredentialReportExpired|CredentialReportNotReady|ReportNotPresent|ReportExpired|ReportInProgress)$/.test(
            awsErrorCode(err),
          )
        ) {
          throw err;
        }
      }
    }
    const pause = Math.min(500 * 2 ** poll, 5000);
    if (waited + pause > timeoutMs) {
      throw new ReportTimeoutError(
        `The credential report was not ready after ${Math.round(waited / 1000)} s. IAM may be busy: run again later, or set scan-method to api.`,
      );
    }
    await deps.sleep(pause);
    waited += pause;
  }
}

async function scanByReport(deps: InventoryDeps): Promise<Inventory> {
  const report = await fetchReport(deps);
  const parsed = parseCredentialReport(report.csv);
  const flagged = deps.usersToConfirm(parsed.keys);
  flagged.delete(ROOT_USER); // IAM has no live listing of the root user's keys.
  deps.info(
    `Credential report${report.generatedAt ? ` of ${report.generatedAt.toISOString()}` : ''}: ${parsed.userCount} users, ${parsed.keys.length} keys; confirming ${flagged.size} flagged users live.`,
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

  const limit = pLimit(deps.concurrency ?? DEFAULT_CONCURRENCY);
  const confirmed = await Promise.all(
    [...flagged].map((user) => limit(() => confirmUser(deps.iam, user, fromReport.get(user) ?? []))),
  );
  for (const list of confirmed) keys.push(...list);

  return {
    method: 'credential-report',
    userCount: parsed.userCount,
    keys,
    reportGeneratedAt: report.generatedAt,
    confirmedUsers: flagged.size,
    notes: [],
    coverage: FULL_COVERAGE,
  };
}

/**
 * The live state of one user's keys. The report has no key IDs and may be hours old, so a key
 * rotated since is seen as it is now. Last use comes from the report for the same key (same
 * creation time), or live for a key the report does not know.
 */
async function confirmUser(iam: IamApi, user: string, reported: readonly AccessKey[]): Promise<AccessKey[]> {
  const live = await iam.listAccessKeys(user);
  if (live === null) return []; // Deleted since the report.
  return Promise.all(
    live.map(async (key) => {
      const match = reported.find(
        (r) => r.createDate && Math.abs(r.createDate.getTime() - key.createDate.getTime()) < 1000,
      );
      if (match) return fromLive(key, match);
      return fromLive(key, lastUseFields(await lastUseOrUnknown(iam, key.accessKeyId)));
    }),
  );
}

/** Last use of a key created after the report; without iam:GetAccessKeyLastUsed it is left unknown. */
async function lastUseOrUnknown(iam: IamApi, accessKeyId: string): Promise<LastUse | null> {
  try {
    return await iam.getAccessKeyLastUsed(accessKeyId);
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
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
  const users = await deps.iam.listUserNames();
  deps.info(`Listed ${users.length} IAM users; listing their keys.`);
  const limit = pLimit(deps.concurrency ?? DEFAULT_CONCURRENCY);
  const live = (
    await Promise.all(users.map((user) => limit(async () => (await deps.iam.listAccessKeys(user)) ?? [])))
  ).flat();
  const keys = live.map((key) => fromLive(key, lastUseFields(null)));

  // Last use costs one call a key: make it only where it can change a verdict or will be shown.
  const withLastUse = new Set<AccessKey>();
  const fetchLastUse = (targets: AccessKey[]) =>
    Promise.all(
      targets
        .filter((key) => !withLastUse.has(key))
        .map((key) =>
          limit(async () => {
            withLastUse.add(key);
            Object.assign(key, lastUseFields(await deps.iam.getAccessKeyLastUsed(key.accessKeyId!)));
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

  // ListUsers does not include the root user; the account summary says whether it has keys.
  try {
    if (await deps.iam.rootAccessKeysPresent()) {
      keys.push({
        user: ROOT_USER,
        accessKeyId: null,
        status: 'Active',
        createDate: null,
        lastUsedDate: null,
        lastUsedService: null,
        lastUsedRegion: null,
        lastUseKnown: false,
        root: true,
      });
    }
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    notes.push('Root access keys were not checked: iam:GetAccountSummary was denied.');
  }

  return {
    method: 'api',
    userCount: users.length,
    keys,
    reportGeneratedAt: null,
    confirmedUsers: flagged.size,
    notes,
    coverage: FULL_COVERAGE,
  };
}
