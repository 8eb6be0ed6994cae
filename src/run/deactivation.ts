/**
 * Deactivation after notice, as the run carries it out: once the account's tracking issue has been
 * read (it is the notice, and records when each key was first listed), the keys whose notice ran
 * out are each looked at live and, unless the run is a dry run, set to Inactive. Never deleted. A
 * key that changed since the scan (rotated, deleted, already inactive) is left alone. A refused
 * `UpdateAccessKey` is that key's error; nothing else changes.
 */
import type { IamApi } from '../aws/iam.js';
import type { KeyIdStyle } from '../render/present.js';
import { planDeactivations, type DeactivationSettings } from '../account/deactivation.js';
import type { Deactivation, DeactivationReport, ScanResult } from '../account/result.js';
import { firstListed } from '../tracking-issue/plan.js';
import { keyToken, type Marker } from '../tracking-issue/marker.js';

export interface DeactivateDeps {
  iam: IamApi;
  /** How key IDs are written in the log: redacted in a public repository. */
  keyId: KeyIdStyle;
  info: (message: string) => void;
}

/** The result with `deactivation` filled in; called with the marker before the issue is written. */
export async function deactivateAfterNotice(
  result: ScanResult,
  previous: Marker | null,
  settings: DeactivationSettings,
  deps: DeactivateDeps,
): Promise<ScanResult> {
  if (settings.afterDays <= 0) return result;
  const days = firstListed(previous, result);
  const plan = planDeactivations(
    result.judgement.stale,
    (f) => days.get(keyToken(result.account.id, f)) ?? null,
    settings,
    result.now,
  );
  const keys: Deactivation[] = [];
  for (const { finding, firstListed: listed } of plan.due) {
    const base = { user: finding.user, accessKeyId: finding.accessKeyId, firstListed: listed };
    keys.push({ ...base, ...(await deactivate(finding.user, finding.accessKeyId, settings.dryRun, deps)) });
  }
  const report: DeactivationReport = {
    dryRun: settings.dryRun,
    afterDays: settings.afterDays,
    keys,
    deferred: plan.deferred,
    scheduled: plan.scheduled,
  };
  return { ...result, deactivation: report };
}

async function deactivate(
  user: string,
  accessKeyId: string,
  dryRun: boolean,
  deps: DeactivateDeps,
): Promise<Pick<Deactivation, 'outcome' | 'error'>> {
  const id = deps.keyId(accessKeyId);
  try {
    // Just before: the key may have been rotated, deleted or deactivated since the scan.
    const live = (await deps.iam.listAccessKeys(user))?.find((k) => k.accessKeyId === accessKeyId);
    if (!live || live.status !== 'Active') {
      deps.info(`Left access key ${id} of ${user} alone: it is ${live ? 'already inactive' : 'gone'}.`);
      return { outcome: 'changed' };
    }
    if (dryRun) {
      deps.info(`Dry run: would deactivate access key ${id} of ${user}.`);
      return { outcome: 'would-deactivate' };
    }
    await deps.iam.updateAccessKey(user, accessKeyId, 'Inactive');
    deps.info(`Deactivated access key ${id} of ${user}.`);
    return { outcome: 'deactivated' };
  } catch (err) {
    const error = (err instanceof Error ? err.message : String(err)).replaceAll(accessKeyId, id);
    deps.info(`Could not deactivate access key ${id} of ${user}: ${error.replaceAll(accessKeyId, id)}`);
    return { outcome: 'failed', error };
  }
}
