/** The seeded accounts and what a correct scan of each must find. */
import { flaggedUsers, judge, type Policy } from '../src/account/judge.js';
import { parseCredentialReport } from '../src/account/credential-report.js';
import { ROOT_USER } from '../src/model.js';
import { credentialReportCsv, seedAccount, type FakeAccount } from '../test/fakes/aws.js';

export interface Truth {
  users: number;
  keys: number;
  /** Active keys at least `maxAgeDays` old, as seeded. */
  staleKeyIds: string[];
  /** S: users the credential report flags (stale or due soon), which the action must confirm live. */
  flaggedUsers: number;
}

export interface BenchAccount {
  account: FakeAccount;
  truth: Truth;
}

/** A deterministic account of `users` users (one or two keys each, about 5% stale). */
export function benchAccount(users: number, opts: { seed: number; now: Date; policy: Policy }): BenchAccount {
  const { account, staleKeyIds } = seedAccount({
    users,
    now: opts.now,
    maxAgeDays: opts.policy.maxAgeDays,
    seed: opts.seed,
  });
  return {
    account,
    truth: {
      users,
      keys: account.users.reduce((n, u) => n + u.keys.length, 0),
      staleKeyIds,
      flaggedUsers: flaggedByReport(account, opts.policy, opts.now),
    },
  };
}

/** S, worked out from the report itself rather than from the calls a scan happens to make. */
function flaggedByReport(account: FakeAccount, policy: Policy, now: Date): number {
  const { keys } = parseCredentialReport(credentialReportCsv(account));
  const flagged = flaggedUsers(judge(keys, policy, now));
  flagged.delete(ROOT_USER);
  return flagged.size;
}
