/**
 * The job's outcome: fail while stale keys exist (`fail-on-stale`) or while the scan could not see
 * everything (`fail-on-incomplete`), with one message that says both. Pure.
 */
import { isIncomplete, scanGaps } from './coverage.js';
import { count } from '../render/markdown.js';
import { accountLabel } from '../render/present.js';
import { failureMessage } from './report.js';
import type { ScanResult } from './result.js';

export interface OutcomePolicy {
  failOnStale: boolean;
  failOnIncomplete: boolean;
}

export interface Outcome {
  /** The one message the job fails with, or `null` when it passes. */
  failure: string | null;
  /** What would have failed the job but was turned into a warning by an input. */
  warnings: string[];
}

/** One reason the job may fail: its sentence, whether it fails the job, and the input that decided (`null`: always fails). */
export interface OutcomePart {
  text: string;
  fails: boolean;
  input: string | null;
}

/** The failing parts joined into the one message; the rest are warnings that name the input that turned them off. */
export function combineOutcome(parts: readonly OutcomePart[]): Outcome {
  const failing = parts.filter((p) => p.fails).map((p) => p.text);
  return {
    failure: failing.length > 0 ? failing.join('. ') : null,
    warnings: parts.filter((p) => !p.fails).map((p) => `${p.text} (${p.input} is false).`),
  };
}

export function decideOutcome(result: ScanResult, policy: OutcomePolicy): Outcome {
  const parts: OutcomePart[] = [];
  if (result.judgement.stale.length > 0) {
    parts.push({ text: failureMessage(result), fails: policy.failOnStale, input: 'fail-on-stale' });
  }
  if (isIncomplete(result)) {
    parts.push({ text: incompleteMessage(result), fails: policy.failOnIncomplete, input: 'fail-on-incomplete' });
  }
  return combineOutcome(parts);
}

/** `The scan of account prod (111111111111) is incomplete: … (fix: …)`, at most three gaps named; no closing period. */
export function incompleteMessage(result: ScanResult): string {
  const gaps = scanGaps(result).filter((g) => g.couldHideStale);
  const named = gaps.slice(0, 3).map((g) => `${g.what} (fix: ${g.fix.charAt(0).toLowerCase()}${g.fix.slice(1)})`);
  const more = gaps.length > 3 ? `; and ${count(gaps.length - 3)} more in the job summary` : '';
  return `The scan of account ${accountLabel(result.account)} is incomplete, so stale keys may be missing: ${named.join('; ')}${more}`;
}
