/**
 * One account's scan: its alias, its inventory and the judgement, as one `ScanResult`. The same for
 * a single-account job and for each account of an organisation, so both read and judge alike.
 */
import { isAccessDenied } from '../aws/errors.js';
import type { IamApi } from '../aws/iam.js';
import { flaggedUsers, judge, type Policy } from './judge.js';
import type { ScanResult } from './result.js';
import { takeInventory, type ScanMethodInput } from './inventory.js';
import type { Partition } from '../model.js';
import type { Sleep } from '../retry.js';
import { applyClaims, type OwnerSettings } from './owners.js';
import { readUserTags } from './tags.js';

export interface ScanSettings {
  scanMethod: ScanMethodInput;
  policy: Policy;
  /** The session's length, for the fix when it expires mid-scan; `null` for credentials from the environment. */
  roleDurationSeconds: number | null;
  /** The first pause while the credential report is generated (the inventory's default when absent). */
  reportFirstPollMs?: number;
  /** How owners and exemptions are read from the tags of users with a stale key. */
  owners: OwnerSettings;
}

export interface ScanDeps {
  iam: IamApi;
  sleep: Sleep;
  now: Date;
  info: (message: string) => void;
  warning: (message: string) => void;
}

/**
 * `identity.alias`: the account's name when the caller knows it already (the organisation's name
 * for it), which saves a request; otherwise its IAM alias is looked up.
 */
export async function scanAccount(
  identity: { accountId: string; arn: string; partition: Partition; alias?: string | null },
  settings: ScanSettings,
  deps: ScanDeps,
): Promise<ScanResult> {
  const { iam, now } = deps;
  // The alias is for people only: look it up while the inventory runs.
  const [alias, inventory] = await Promise.all([
    identity.alias !== undefined ? identity.alias : accountAlias(iam, deps.info),
    takeInventory(settings.scanMethod, {
      iam,
      sleep: deps.sleep,
      usersToConfirm: (keys) => flaggedUsers(judge(keys, settings.policy, now)),
      lastUseMatters: settings.policy.maxUnusedDays > 0,
      roleDurationSeconds: settings.roleDurationSeconds,
      reportFirstPollMs: settings.reportFirstPollMs,
      info: deps.info,
      warning: deps.warning,
    }),
  ]);
  const judged = judge(inventory.keys, settings.policy, now);
  // Tags only for the users with a stale key: owners to name, exemptions to honour.
  const users = [...new Set(judged.stale.filter((f) => !f.root).map((f) => f.user))];
  const { tags, gap } = await readUserTags(iam, users, { accountUsers: inventory.userCount, info: deps.info });
  const coverage = gap ? { ...inventory.coverage, gaps: [...inventory.coverage.gaps, gap] } : inventory.coverage;
  return {
    account: { id: identity.accountId, alias, partition: identity.partition, callerArn: identity.arn },
    inventory: { ...inventory, coverage },
    // Tags that could not be read exempt nothing: every stale key stays stale.
    judgement: applyClaims(judged, gap ? null : tags, settings.owners, now),
    policy: settings.policy,
    now,
  };
}

/** The account's alias, for people; optional, so a denial is not an error. */
async function accountAlias(iam: IamApi, info: (message: string) => void): Promise<string | null> {
  try {
    return (await iam.listAccountAliases())[0] ?? null;
  } catch (err) {
    if (isAccessDenied(err)) {
      info('iam:ListAccountAliases is not allowed; the account is shown by its ID.');
      return null;
    }
    throw err;
  }
}
