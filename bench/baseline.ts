/**
 * The baseline: the naive scan of the reference tutorial, kept here and never in src/. Every user
 * is listed, then each user's keys are listed one request at a time, with the SDK's paginators —
 * corrected, unlike the tutorial, to read every page of both listings.
 */
import { IAMClient, paginateListAccessKeys, paginateListUsers } from '@aws-sdk/client-iam';
import type { AccessKey } from '../src/model.js';

export async function naiveScan(): Promise<{ userCount: number; keys: AccessKey[] }> {
  const client = new IAMClient({ region: 'us-east-1' });
  try {
    const userNames: string[] = [];
    for await (const page of paginateListUsers({ client }, {})) {
      for (const user of page.Users ?? []) if (user.UserName) userNames.push(user.UserName);
    }
    const keys: AccessKey[] = [];
    for (const userName of userNames) {
      for await (const page of paginateListAccessKeys({ client }, { UserName: userName })) {
        for (const key of page.AccessKeyMetadata ?? []) {
          keys.push({
            user: userName,
            accessKeyId: key.AccessKeyId ?? null,
            status: key.Status === 'Inactive' ? 'Inactive' : 'Active',
            createDate: key.CreateDate ?? null,
            lastUsedDate: null,
            lastUsedService: null,
            lastUsedRegion: null,
            lastUseKnown: false,
            root: false,
          });
        }
      }
    }
    return { userCount: userNames.length, keys };
  } finally {
    client.destroy();
  }
}
