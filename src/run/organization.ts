/**
 * The organisation mode's scans: list the accounts (or take the list), choose this job's, and scan
 * each through its member role, a bounded number at once. One account's failure never stops the
 * others: it becomes that account's error.
 */
import pLimit from 'p-limit';
import { scanAccount, type ScanSettings } from '../account/scan.js';
import type { AwsCredentialSource, CallerIdentity } from '../aws/credentials.js';
import { errorMessage } from '../aws/errors.js';
import { createIam } from '../aws/iam.js';
import { listOrganizationAccounts } from '../aws/organizations.js';
import { memberSessions, sharedIdToken, type MemberSessions } from '../aws/sessions.js';
import { plural } from '../render/markdown.js';
import type { AccountsConfig } from '../inputs.js';
import type { Sleep } from '../retry.js';
import { selectAccounts, type MemberAccount, type Selection } from './accounts.js';
import type { AccountRun } from './overview.js';

export interface OrganizationScanConfig {
  accounts: AccountsConfig;
  settings: ScanSettings;
  awsRegion: string;
  audience: string;
  roleSessionName: string;
  /** The hub role's ARN as given (with its path), named when a member role refuses it. */
  hubArn: string | null;
}

export interface OrganizationScanDeps {
  /** Takes each account's full result as its scan ends (the report file), before its keys are let go. */
  record: (run: AccountRun) => Promise<void>;
  /** The hub's credentials (a renewing provider), or `undefined` for the environment's. */
  hub: AwsCredentialSource | undefined;
  hubIdentity: CallerIdentity;
  getIdToken: (audience: string) => Promise<string>;
  setSecret: (value: string) => void;
  sleep: Sleep;
  now: () => Date;
  info: (message: string) => void;
}

export interface OrganizationScan {
  runs: AccountRun[];
  selection: Selection;
  /** How the accounts were chosen, for people. */
  source: string;
  /**
   * The member sessions, still open: deactivation after notice acts in an account once its issue is
   * read. The caller closes them.
   */
  sessions: MemberSessions;
}

export async function scanOrganization(
  config: OrganizationScanConfig,
  deps: OrganizationScanDeps,
): Promise<OrganizationScan> {
  const { accounts } = config;
  const partition = deps.hubIdentity.partition;
  const listed = await listAccounts(accounts, deps);
  const selection = selectAccounts(listed, { exclude: accounts.exclude, shard: accounts.shard });
  const source = describeSource(accounts, listed.length, selection);
  deps.info(`Scanning ${plural(selection.accounts.length, 'account', 'accounts')} (${source}).`);

  const sessions = memberSessions(
    {
      auth: accounts.memberRoleAuth,
      partition,
      awsRegion: config.awsRegion,
      roleName: accounts.memberRoleName,
      roleSessionName: config.roleSessionName,
      audience: config.audience,
    },
    {
      hub: deps.hub,
      hubArn: config.hubArn ?? deps.hubIdentity.arn,
      // A thousand member sign-ins share a token for a minute rather than ask the runner a thousand times.
      getIdToken: sharedIdToken(deps.getIdToken),
      setSecret: deps.setSecret,
      sleep: deps.sleep,
      info: deps.info,
    },
  );
  const now = deps.now();
  const limit = pLimit(accounts.concurrency);
  try {
    const runs = await Promise.all(
      selection.accounts.map((account) => limit(() => scanMember(account, sessions, config, deps, now))),
    );
    return { runs, selection, source, sessions };
  } catch (err) {
    sessions.close();
    throw err;
  }
}

async function listAccounts(accounts: AccountsConfig, deps: OrganizationScanDeps): Promise<MemberAccount[]> {
  if (accounts.source.kind === 'list') return accounts.source.ids.map((id) => ({ id, name: null }));
  return listOrganizationAccounts(deps.hub, deps.hubIdentity.partition, {
    organizationalUnits: accounts.source.organizationalUnits,
    callerArn: deps.hubIdentity.arn,
  });
}

function describeSource(accounts: AccountsConfig, listed: number, selection: Selection): string {
  const from =
    accounts.source.kind === 'list'
      ? `${plural(listed, 'listed account', 'listed accounts')}`
      : accounts.source.organizationalUnits.length > 0
        ? `${plural(listed, 'active account', 'active accounts')} under ${accounts.source.organizationalUnits.join(', ')}`
        : `${plural(listed, 'active account', 'active accounts')} of the organization`;
  const shard = accounts.shard
    ? `; shard ${accounts.shard.index}/${accounts.shard.count}: ${plural(selection.accounts.length, 'account', 'accounts')} of ${selection.total}`
    : '';
  return `${from}${shard}`;
}

/** One member account: sign in, then the same scan as a single-account job; any failure is its error. */
async function scanMember(
  member: MemberAccount,
  sessions: MemberSessions,
  config: OrganizationScanConfig,
  deps: OrganizationScanDeps,
  now: Date,
): Promise<AccountRun> {
  const log = (message: string) => deps.info(`[${member.id}] ${message}`);
  try {
    const credentials = sessions.credentials(member.id);
    await credentials(); // A refused sign-in is said as such.
    // Who we are is known without asking STS: the member role's session in the member account.
    const partition = deps.hubIdentity.partition;
    const role = config.accounts.memberRoleName.split('/').at(-1)!;
    const identity = {
      accountId: member.id,
      arn: `arn:${partition}:sts::${member.id}:assumed-role/${role}/${config.roleSessionName}`,
      partition,
      // The organisation's name for the account stands for its alias; a listed ID has its alias looked up.
      ...(member.name !== null && { alias: member.name }),
    };
    const iam = createIam(identity.partition, credentials);
    try {
      const result = await scanAccount(identity, config.settings, {
        iam,
        sleep: deps.sleep,
        now,
        info: log,
        // Per-account warnings would be a thousand annotations: the summary carries them.
        warning: log,
      });
      const run: AccountRun = { account: member, result, error: null, issue: null };
      await deps.record(run);
      // Its report entry is written: a thousand accounts' keys are not kept for the rest of the run.
      return { ...run, result: { ...result, inventory: { ...result.inventory, keys: [] } } };
    } finally {
      iam.close();
    }
  } catch (err) {
    const error = errorMessage(err);
    log(`Could not be scanned: ${error}`);
    const run: AccountRun = { account: member, result: null, error, issue: null };
    await deps.record(run);
    return run;
  }
}
