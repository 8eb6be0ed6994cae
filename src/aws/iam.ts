/**
 * The IAM calls the scan makes, behind a narrow interface so the inventory can be tested against a
 * plain object. Only the commands used are imported.
 */
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  IAMClient,
  ListAccountAliasesCommand,
  paginateListAccessKeys,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import type { AwsCredentials } from './credentials.js';
import type { KeyStatus, Partition } from '../model.js';
import { awsErrorCode } from './errors.js';

export type ReportState = 'STARTED' | 'INPROGRESS' | 'COMPLETE';

export interface LiveKey {
  user: string;
  accessKeyId: string;
  status: KeyStatus;
  createDate: Date;
}

export interface LastUse {
  date: Date | null;
  service: string | null;
  region: string | null;
}

export interface IamApi {
  generateCredentialReport(): Promise<ReportState>;
  getCredentialReport(): Promise<{ csv: string; generatedAt: Date | null }>;
  listUserNames(): Promise<string[]>;
  /** `null` when the user no longer exists. */
  listAccessKeys(user: string): Promise<LiveKey[] | null>;
  getAccessKeyLastUsed(accessKeyId: string): Promise<LastUse>;
  listAccountAliases(): Promise<string[]>;
  rootAccessKeysPresent(): Promise<boolean>;
}

/** IAM is global: one endpoint per partition, signed for this region. */
export const IAM_REGION: Record<Partition, string> = {
  aws: 'us-east-1',
  'aws-cn': 'cn-north-1',
  'aws-us-gov': 'us-gov-west-1',
};

export const USER_AGENT = 'iam-stale-keys';

export function createIam(partition: Partition, credentials: AwsCredentials | undefined): IamApi {
  const client = new IAMClient({
    region: IAM_REGION[partition],
    credentials,
    // IAM throttles per account with limits that cannot be raised: let the SDK pace itself.
    retryMode: 'adaptive',
    maxAttempts: 10,
    customUserAgent: USER_AGENT,
  });
  const pageSize = 1000;

  return {
    async generateCredentialReport() {
      const out = await client.send(new GenerateCredentialReportCommand({}));
      return (out.State ?? 'STARTED') as ReportState;
    },

    async getCredentialReport() {
      const out = await client.send(new GetCredentialReportCommand({}));
      const csv = out.Content ? Buffer.from(out.Content).toString('utf8') : '';
      return { csv, generatedAt: out.GeneratedTime ?? null };
    },

    async listUserNames() {
      const names: string[] = [];
      for await (const page of paginateListUsers({ client, pageSize }, {})) {
        for (const user of page.Users ?? []) if (user.UserName) names.push(user.UserName);
      }
      return names;
    },

    async listAccessKeys(user) {
      const keys: LiveKey[] = [];
      try {
        for await (const page of paginateListAccessKeys({ client, pageSize }, { UserName: user })) {
          for (const k of page.AccessKeyMetadata ?? []) {
            if (!k.AccessKeyId || !k.CreateDate) continue;
            keys.push({
              user: k.UserName ?? user,
              accessKeyId: k.AccessKeyId,
              status: k.Status === 'Inactive' ? 'Inactive' : 'Active',
              createDate: k.CreateDate,
            });
          }
        }
      } catch (err) {
        if (awsErrorCode(err) === 'NoSuchEntity') return null;
        throw err;
      }
      return keys;
    },

    async getAccessKeyLastUsed(accessKeyId) {
      const out = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
      const used = out.AccessKeyLastUsed;
      return {
        date: used?.LastUsedDate ?? null,
        service: notApplicable(used?.ServiceName),
        region: notApplicable(used?.Region),
      };
    },

    async listAccountAliases() {
      const out = await client.send(new ListAccountAliasesCommand({}));
      return out.AccountAliases ?? [];
    },

    async rootAccessKeysPresent() {
      const out = await client.send(new GetAccountSummaryCommand({}));
      return (out.SummaryMap?.AccountAccessKeysPresent ?? 0) > 0;
    },
  };
}

function notApplicable(value: string | undefined): string | null {
  return value && value !== 'N/A' ? value : null;
}
