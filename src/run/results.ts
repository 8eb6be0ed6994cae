/**
 * What a run over many accounts hands on: the outputs (sums, every stale key with its account, one
 * entry per account), the JSON report of every account, and the one outcome. Pure, but for the
 * report file, which is written account by account so a thousand accounts never make one huge string.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIncomplete, scanGaps } from '../account/coverage.js';
import { count, plural } from '../render/markdown.js';
import { accountLabel } from '../render/present.js';
import { buildReport, fitJsonArray, staleKeyOutput, STALE_KEYS_OUTPUT_BUDGET_UTF16_BYTES } from '../account/report.js';
import type { ScanResult } from '../account/result.js';
import { combineOutcome, type Outcome, type OutcomePart, type OutcomePolicy } from '../account/outcome.js';
import type { AccountRun } from './overview.js';
import { worstFirst } from './overview.js';

/** GitHub keeps 1 MB of outputs a job (UTF-16): stale-keys has half, this a quarter. */
export const ACCOUNTS_OUTPUT_BUDGET_UTF16_BYTES = 256 * 1024;

type Scanned = AccountRun & { result: ScanResult };
const scanned = (runs: readonly AccountRun[]): Scanned[] => runs.filter((r): r is Scanned => r.result !== null);

export interface RunTotals {
  users: number;
  keys: number;
  stale: number;
  dueSoon: number;
  scanned: number;
  failed: number;
  complete: boolean;
}

export function runTotals(runs: readonly AccountRun[]): RunTotals {
  const ok = scanned(runs);
  const sum = (f: (r: Scanned) => number) => ok.reduce((n, r) => n + f(r), 0);
  return {
    users: sum((r) => r.result.inventory.userCount),
    keys: sum((r) => r.result.judgement.scannedKeys),
    stale: sum((r) => r.result.judgement.stale.length),
    dueSoon: sum((r) => r.result.judgement.dueSoon.length),
    scanned: ok.length,
    failed: runs.length - ok.length,
    complete: ok.length === runs.length && ok.every((r) => !isIncomplete(r.result)),
  };
}

/** `stale-keys`: every stale key of every account, worst account first, each with its `accountId`. */
export function runStaleKeysJson(runs: readonly AccountRun[], budget = STALE_KEYS_OUTPUT_BUDGET_UTF16_BYTES) {
  const items = worstFirst(scanned(runs)).flatMap((r) =>
    r.result!.judgement.stale.map((f) =>
      JSON.stringify({ accountId: r.account.id, ...staleKeyOutput(f, r.result!.judgement) }),
    ),
  );
  return { ...fitJsonArray(items, budget), total: items.length };
}

/** `accounts`: one entry per account, worst first: its counts, its issue, or why it could not be scanned. */
export function accountsJson(runs: readonly AccountRun[], budget = ACCOUNTS_OUTPUT_BUDGET_UTF16_BYTES) {
  const items = worstFirst(runs).map((r) =>
    JSON.stringify({
      accountId: r.account.id,
      name: r.account.name,
      alias: r.result?.account.alias ?? null,
      users: r.result?.inventory.userCount ?? null,
      keys: r.result?.judgement.scannedKeys ?? null,
      stale: r.result?.judgement.stale.length ?? null,
      dueSoon: r.result?.judgement.dueSoon.length ?? null,
      complete: r.result ? !isIncomplete(r.result) : false,
      issue: r.issue?.number ? { number: r.issue.number, url: r.issue.url, action: r.issue.action } : null,
      error: r.error,
    }),
  );
  return { ...fitJsonArray(items, budget), total: items.length };
}

/**
 * The job's one message: stale keys (per `fail-on-stale`), accounts that could not be scanned
 * (always), incomplete scans (per `fail-on-incomplete`); what an input turned off is a warning.
 */
export function decideRunOutcome(runs: readonly AccountRun[], policy: OutcomePolicy): Outcome {
  const ok = scanned(runs);
  const totals = runTotals(runs);
  const parts: OutcomePart[] = [];
  if (totals.stale > 0) {
    const accounts = ok.filter((r) => r.result.judgement.stale.length > 0).length;
    parts.push({
      text: `${plural(totals.stale, 'access key is', 'access keys are')} stale in ${count(accounts)} of ${plural(runs.length, 'account', 'accounts')}`,
      fails: policy.failOnStale,
      input: 'fail-on-stale',
    });
  }
  const failed = runs.filter((r) => r.result === null);
  if (failed.length > 0) {
    const named = failed
      .slice(0, 3)
      .map((r) => `${r.account.id}: ${r.error}`)
      .join('; ');
    const more = failed.length > 3 ? `; and ${count(failed.length - 3)} more in the job summary` : '';
    parts.push({
      text: `${plural(failed.length, 'account', 'accounts')} could not be scanned (${named}${more})`,
      fails: true,
      input: null,
    });
  }
  const incomplete = ok.filter((r) => isIncomplete(r.result));
  if (incomplete.length > 0) {
    const named = incomplete
      .slice(0, 3)
      .map((r) => `${accountLabel(r.result.account)}: ${scanGaps(r.result).find((g) => g.couldHideStale)?.what ?? ''}`)
      .join('; ');
    const more = incomplete.length > 3 ? `; and ${count(incomplete.length - 3)} more in the job summary` : '';
    parts.push({
      text: `${plural(incomplete.length, 'account was', 'accounts were')} scanned incompletely, so stale keys may be missing (${named}${more})`,
      fails: policy.failOnIncomplete,
      input: 'fail-on-incomplete',
    });
  }
  return combineOutcome(parts);
}

/**
 * The JSON report of every account, written one account at a time as each scan ends, so a thousand
 * accounts' keys are never all in memory at once: `{ …, "accounts": [ … ], "source": … }`. The
 * tracking issues are in the `accounts` output.
 */
export class RunReportWriter {
  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  private first = true;
  private queue: Promise<void> = Promise.resolve();

  static async open(
    meta: { generatedAt: Date; shard: { index: number; count: number } | null },
    env: NodeJS.ProcessEnv,
  ): Promise<RunReportWriter> {
    const dir = env.RUNNER_TEMP || tmpdir();
    await mkdir(dir, { recursive: true });
    const shard = meta.shard ? `-shard-${meta.shard.index}-of-${meta.shard.count}` : '';
    const path = join(dir, `iam-stale-keys-organization${shard}.json`);
    const writer = new RunReportWriter(path, await open(path, 'w'));
    const head = {
      schemaVersion: 1,
      mode: 'organization',
      generatedAt: meta.generatedAt.toISOString(),
    };
    await writer.file.write(`${JSON.stringify(head).slice(0, -1)},"accounts":[\n`);
    return writer;
  }

  /** Appends one account (in the order accounts finish); writes are queued, one at a time. */
  add(run: AccountRun): Promise<void> {
    const entry = run.result
      ? { accountId: run.account.id, name: run.account.name, error: null, ...buildReport(run.result) }
      : { accountId: run.account.id, name: run.account.name, error: run.error };
    const text = `${this.first ? '' : ',\n'}${JSON.stringify(entry)}`;
    this.first = false;
    this.queue = this.queue.then(() => this.file.write(text).then(() => undefined));
    return this.queue;
  }

  /** Closes the report with how the accounts were chosen (before GitHub is asked anything, so it is whole). */
  async finish(source: string): Promise<void> {
    await this.queue;
    await this.file.write(`\n],"source":${JSON.stringify(source)}}\n`);
    await this.file.close();
  }
}
