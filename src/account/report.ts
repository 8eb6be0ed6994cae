/** The machine-readable results: the `stale-keys` output and the JSON report file. Pure. */
import type { AccessKey, DueSoon, ExemptedFinding, Finding, Gap, Judgement, Owner } from '../model.js';
import { isIncomplete, scanGaps } from './coverage.js';
import { count, plural } from '../render/markdown.js';
import { accountLabel } from '../render/present.js';
import type { ScanResult } from './result.js';

export interface StaleKeyOutput {
  user: string;
  accessKeyId: string | null;
  status: string;
  createDate: string | null;
  ageDays: number | null;
  lastUsedDate: string | null;
  lastUsedService: string | null;
  lastUsedRegion: string | null;
  reasons: string[];
  /** Who owns the key, from its user's tags; absent when the tags name no one or were not read. */
  owner?: Owner;
  /** Why the user's tags did not exempt the key (ended, too far off, unreadable, no reason). */
  exemptionNotApplied?: string;
}

/** An exempted key: stale, accepted until a date. */
export type ExemptedKeyOutput = StaleKeyOutput & { exemptedUntil: string; exemptionReason: string };

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function keyFields(k: AccessKey) {
  return {
    user: k.user,
    accessKeyId: k.accessKeyId,
    status: k.status,
    createDate: iso(k.createDate),
    lastUsedDate: iso(k.lastUsedDate),
    lastUsedService: k.lastUsedService,
    lastUsedRegion: k.lastUsedRegion,
  };
}

/** One stale key, with its owner and exemption note from `judgement` when given. */
export function staleKeyOutput(
  f: Finding,
  judgement?: Pick<Judgement, 'owners' | 'refusedExemptions'>,
): StaleKeyOutput {
  const owner = judgement?.owners.get(f.user);
  const notApplied = judgement?.refusedExemptions.get(f.user);
  const { user, accessKeyId, status, createDate, lastUsedDate, lastUsedService, lastUsedRegion } = keyFields(f);
  return {
    user,
    accessKeyId,
    status,
    createDate,
    ageDays: f.ageDays,
    lastUsedDate,
    lastUsedService,
    lastUsedRegion,
    reasons: f.reasons,
    ...(owner && { owner }),
    ...(notApplied && { exemptionNotApplied: notApplied }),
  };
}

export function exemptedKeyOutput(f: ExemptedFinding, judgement: Pick<Judgement, 'owners'>): ExemptedKeyOutput {
  const { exemptionNotApplied: _none, ...key } = staleKeyOutput(f, {
    owners: judgement.owners,
    refusedExemptions: new Map(),
  });
  return { ...key, exemptedUntil: f.exemption.until, exemptionReason: f.exemption.reason };
}

/**
 * GitHub keeps at most 1 MB of outputs a job, sized as UTF-16 (two bytes a code unit, whatever the
 * text): half of it for this output leaves room for the others and for a workflow's own.
 */
export const STALE_KEYS_OUTPUT_BUDGET_UTF16_BYTES = 512 * 1024;

/** How GitHub sizes an output: UTF-16, two bytes a code unit (a JavaScript string's `length`). */
export function utf16Bytes(text: string): number {
  return text.length * 2;
}

/** The `stale-keys` output: every finding, or as many as fit in the budget. */
export function staleKeysJson(
  judgement: Pick<Judgement, 'stale' | 'owners' | 'refusedExemptions'>,
  budgetUtf16Bytes = STALE_KEYS_OUTPUT_BUDGET_UTF16_BYTES,
): { json: string; included: number } {
  return fitJsonArray(
    judgement.stale.map((f) => JSON.stringify(staleKeyOutput(f, judgement))),
    budgetUtf16Bytes,
  );
}

/** A JSON array of as many of the serialised `items` as fit in the budget, in order. */
export function fitJsonArray(items: readonly string[], budgetUtf16Bytes: number): { json: string; included: number } {
  let size = utf16Bytes('[]');
  let included = 0;
  for (const item of items) {
    const itemSize = utf16Bytes(item) + utf16Bytes(',');
    if (size + itemSize > budgetUtf16Bytes) break;
    size += itemSize;
    included++;
  }
  return { json: `[${items.slice(0, included).join(',')}]`, included };
}

export interface JsonReport {
  schemaVersion: 1;
  generatedAt: string;
  account: { id: string; alias: string | null; label: string; partition: string; callerArn: string };
  scan: {
    method: string;
    credentialReportGeneratedAt: string | null;
    users: number;
    keys: number;
    confirmedUsers: number;
    notes: string[];
  };
  /** What the scan could not check; `complete` is false when a stale key could hide in a gap. */
  coverage: {
    complete: boolean;
    gaps: Gap[];
    /** Users whose keys could not be listed, or `"all"`. */
    unseenUsers: string[] | 'all';
    rootChecked: boolean;
    /** Active keys whose unused verdict could not be made (last use unknown). */
    undeterminedKeys: ReturnType<typeof keyFields>[];
  };
  policy: ScanResult['policy'];
  counts: { stale: number; exempted: number; dueSoon: number; excludedKeys: number; excludedUsers: number };
  excludedUsers: string[];
  /** `exclude-users` patterns that matched no user with a key. */
  unmatchedExclusions: string[];
  stale: StaleKeyOutput[];
  /** Stale keys exempted by their user's tags until a date: they do not fail the job. */
  exempted: ExemptedKeyOutput[];
  /** Tags set but not usable (a handle of the wrong shape). */
  tagNotes: string[];
  dueSoon: Array<ReturnType<typeof keyFields> & { ageDays: number; daysLeft: number }>;
  /** Every key scanned. Keys known only from the credential report have no ID. */
  keys: ReturnType<typeof keyFields>[];
}

export function buildReport(result: ScanResult): JsonReport {
  const { account, inventory, judgement } = result;
  const { coverage } = inventory;
  return {
    schemaVersion: 1,
    generatedAt: result.now.toISOString(),
    account: {
      id: account.id,
      alias: account.alias,
      label: accountLabel(account),
      partition: account.partition,
      callerArn: account.callerArn,
    },
    scan: {
      method: inventory.method,
      credentialReportGeneratedAt: iso(inventory.reportGeneratedAt),
      users: inventory.userCount,
      keys: judgement.scannedKeys,
      confirmedUsers: inventory.confirmedUsers,
      notes: inventory.notes,
    },
    coverage: {
      complete: !isIncomplete(result),
      gaps: scanGaps(result),
      unseenUsers: coverage.unseenUsers === 'all' ? 'all' : [...coverage.unseenUsers].sort(),
      rootChecked: coverage.rootChecked,
      undeterminedKeys: judgement.undetermined.map(keyFields),
    },
    policy: result.policy,
    counts: {
      stale: judgement.stale.length,
      exempted: judgement.exempted.length,
      dueSoon: judgement.dueSoon.length,
      excludedKeys: judgement.excludedKeys,
      excludedUsers: judgement.excludedUsers.length,
    },
    excludedUsers: judgement.excludedUsers,
    unmatchedExclusions: judgement.unmatchedExclusions,
    stale: judgement.stale.map((f) => staleKeyOutput(f, judgement)),
    exempted: judgement.exempted.map((f) => exemptedKeyOutput(f, judgement)),
    tagNotes: judgement.tagNotes,
    dueSoon: judgement.dueSoon.map((k: DueSoon) => ({ ...keyFields(k), ageDays: k.ageDays, daysLeft: k.daysLeft })),
    keys: inventory.keys.map(keyFields),
  };
}

/** One sentence for a failed job: `3 access keys in account 111111111111 are older than 90 days`. */
export function failureMessage(result: ScanResult): string {
  const { judgement, policy } = result;
  const stale = judgement.stale;
  const where = `in account ${accountLabel(result.account)}`;
  const only = (reason: string) => stale.every((f) => f.reasons.length === 1 && f.reasons[0] === reason);
  const subject = plural(stale.length, 'access key', 'access keys');
  const verb = stale.length === 1 ? 'is' : 'are';
  if (only('age')) return `${subject} ${where} ${verb} older than ${plural(policy.maxAgeDays, 'day', 'days')}`;
  if (only('unused')) {
    return `${subject} ${where} ${verb} unused for ${plural(policy.maxUnusedDays, 'day', 'days')} or more`;
  }
  // Each key counted once, under its gravest reason, so the parts add up to the whole.
  const primary = stale.map((f) => (['root-key', 'age', 'unused'] as const).find((r) => f.reasons.includes(r)));
  const by = (reason: string) => primary.filter((r) => r === reason).length;
  const parts: string[] = [];
  if (by('root-key')) parts.push(`${count(by('root-key'))} of the root user`);
  if (by('age')) parts.push(`${count(by('age'))} older than ${plural(policy.maxAgeDays, 'day', 'days')}`);
  if (by('unused'))
    parts.push(`${count(by('unused'))} unused for ${plural(policy.maxUnusedDays, 'day', 'days')} or more`);
  return `${subject} ${where} ${verb} stale: ${parts.join(', ')}`;
}
