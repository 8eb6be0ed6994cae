/**
 * The accounts of the AWS organisation, read with the hub's credentials: every ACTIVE account, or
 * those under some organizational units (nested OUs included). Organizations is a global service:
 * one endpoint per partition, signed for its region (the SDK's endpoint rules send every region
 * of a partition there: us-east-1, cn-northwest-1, us-gov-west-1).
 */
import {
  type Account,
  OrganizationsClient,
  paginateListAccounts,
  paginateListAccountsForParent,
  paginateListChildren,
} from '@aws-sdk/client-organizations';
import pLimit from 'p-limit';
import type { Partition } from '../model.js';
import type { AwsCredentialSource } from './credentials.js';
import { awsErrorCode, describeAwsFailure, isAccessDenied, sdkMessage } from './errors.js';
import { AWS_HTTP_TIMEOUTS, awsRequestHandler, type AwsHttpTimeouts } from './http.js';
import { USER_AGENT } from './iam.js';

/** Where Organizations answers in each partition (its `implicitGlobalRegion`). */
export const ORGANIZATIONS_REGION: Record<Partition, string> = {
  aws: 'us-east-1',
  'aws-cn': 'cn-northwest-1',
  'aws-us-gov': 'us-gov-west-1',
};

/** Total tries of one Organizations request: it throttles at a few requests a second. */
export const ORGANIZATIONS_MAX_ATTEMPTS = 8;

/** The most items Organizations gives on one page. */
const PAGE_SIZE = 20;

/** OUs walked at the same time. */
const WALK_CONCURRENCY = 4;

/** An OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`), as Organizations accepts them as a parent. */
export const ORGANIZATIONAL_UNIT_ID = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;

export interface OrganizationAccount {
  id: string;
  /** The organisation's name for the account. */
  name: string;
}

export interface ListOrganizationAccountsOptions {
  /** Only the accounts under these OUs (or roots), nested OUs included. Default: the whole organisation. */
  organizationalUnits?: readonly string[];
  /** The hub's ARN, named in a denial's hint. */
  callerArn?: string;
  /** For tests; default {@link AWS_HTTP_TIMEOUTS}. */
  timeouts?: AwsHttpTimeouts;
  /** Default {@link ORGANIZATIONS_MAX_ATTEMPTS}. */
  maxAttempts?: number;
}

/** Listing failed; the message says what to change. */
export class OrganizationsError extends Error {
  override readonly name = 'OrganizationsError';
}

/**
 * Every ACTIVE account of the organisation (by `State`, or the older `Status` when AWS sends only
 * that), or only those under `organizationalUnits`. Reads every page: a page can be empty while a
 * NextToken says more follow. Each account once, in the order listed.
 */
export async function listOrganizationAccounts(
  credentials: AwsCredentialSource | undefined,
  partition: Partition,
  options: ListOrganizationAccountsOptions = {},
): Promise<OrganizationAccount[]> {
  const units = options.organizationalUnits ?? [];
  const malformed = units.filter((id) => !ORGANIZATIONAL_UNIT_ID.test(id));
  if (malformed.length > 0) {
    throw new OrganizationsError(
      `Not an organizational unit ID: ${malformed.map((id) => `"${id}"`).join(', ')}. ` +
        'OU IDs look like ou-ab12-11111111 (a root: r-ab12); the AWS Organizations console shows them.',
    );
  }

  const client = new OrganizationsClient({
    region: ORGANIZATIONS_REGION[partition],
    credentials,
    // Organizations throttles hard: let the SDK pace itself.
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? ORGANIZATIONS_MAX_ATTEMPTS,
    requestHandler: awsRequestHandler(options.timeouts ?? AWS_HTTP_TIMEOUTS),
    customUserAgent: USER_AGENT,
  });
  try {
    const listed = units.length === 0 ? await everyAccount(client) : await accountsUnder(client, units);
    const unique = new Map<string, OrganizationAccount>();
    for (const account of listed) {
      if (account.Id && isActive(account) && !unique.has(account.Id)) {
        unique.set(account.Id, { id: account.Id, name: account.Name ?? '' });
      }
    }
    return [...unique.values()];
  } finally {
    client.destroy();
  }
}

/** ACTIVE by `State` (the newer field) when present, else by `Status` (retired on 9 September 2026). */
function isActive(account: Account): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}

async function everyAccount(client: OrganizationsClient): Promise<Account[]> {
  const accounts: Account[] = [];
  try {
    for await (const page of paginateListAccounts({ client, pageSize: PAGE_SIZE }, {})) {
      accounts.push(...(page.Accounts ?? []));
    }
  } catch (err) {
    throw listingError(err, "listing the organisation's accounts");
  }
  return accounts;
}

/** The accounts under each OU, depth first, the OUs' own accounts before their children's. */
async function accountsUnder(client: OrganizationsClient, units: readonly string[]): Promise<Account[]> {
  const limit = pLimit(WALK_CONCURRENCY);
  const seen = new Set<string>();

  async function walk(parentId: string, top: string): Promise<Account[]> {
    if (seen.has(parentId)) return [];
    seen.add(parentId);
    const [own, children] = await Promise.all([
      limit(() => accountsOf(parentId, top)),
      limit(() => childUnits(parentId, top)),
    ]);
    const below = await Promise.all(children.map((child) => walk(child, top)));
    return [...own, ...below.flat()];
  }

  async function accountsOf(parentId: string, top: string): Promise<Account[]> {
    const accounts: Account[] = [];
    try {
      for await (const page of paginateListAccountsForParent({ client, pageSize: PAGE_SIZE }, { ParentId: parentId })) {
        accounts.push(...(page.Accounts ?? []));
      }
    } catch (err) {
      throw listingError(err, stepFor(parentId, top), top);
    }
    return accounts;
  }

  async function childUnits(parentId: string, top: string): Promise<string[]> {
    const ids: string[] = [];
    try {
      for await (const page of paginateListChildren(
        { client, pageSize: PAGE_SIZE },
        { ParentId: parentId, ChildType: 'ORGANIZATIONAL_UNIT' },
      )) {
        for (const child of page.Children ?? []) if (child.Id) ids.push(child.Id);
      }
    } catch (err) {
      throw listingError(err, stepFor(parentId, top), top);
    }
    return ids;
  }

  const lists = await Promise.all(units.map((unit) => walk(unit, unit)));
  return lists.flat();
}

function stepFor(parentId: string, top: string): string {
  return parentId === top
    ? `listing the accounts under ${top}`
    : `listing the accounts under ${parentId} (inside ${top})`;
}

/** The hub may not list, is in no organisation, or an OU does not exist: said with what to change. */
function listingError(err: unknown, step: string, unit?: string): OrganizationsError {
  const what = `${step.charAt(0).toUpperCase()}${step.slice(1)} failed`;
  const code = awsErrorCode(err);
  const said = `${code}: ${sdkMessage(err)}`;
  let message: string;
  if (code === 'AWSOrganizationsNotInUse') {
    message =
      `${what}: the hub's account is not in an AWS organisation (${said}). ` +
      "Sign in to the organisation's management account or a delegated administrator account, or name the accounts to scan instead.";
  } else if (isAccessDenied(err)) {
    message =
      `${what}: access denied (${said}). The hub role needs organizations:ListAccounts, organizations:ListChildren ` +
      "and organizations:ListAccountsForParent, and must be in the organisation's management account or in a " +
      'delegated administrator account: from any other member account Organizations refuses whatever the policy allows.';
  } else if (code === 'ParentNotFound' || code === 'InvalidInput') {
    message =
      `${what}: ${unit ?? 'an OU'} is not an OU or root of this organisation (${said}). ` +
      'Check the OU IDs against the AWS Organizations console.';
  } else {
    message = describeAwsFailure(err, step);
  }
  return new OrganizationsError(message, { cause: err });
}
