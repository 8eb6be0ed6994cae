/** Shared data types: what flows from the inventory through the judgement to the reports. */

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';
export type KeyStatus = 'Active' | 'Inactive';
export type ScanMethod = 'credential-report' | 'api';

/** The user name IAM gives the root user in the credential report. */
export const ROOT_USER = '<root_account>';

/** One access key as the inventory saw it. Dates are instants; `null` means unknown or never. */
export interface AccessKey {
  user: string;
  /** `null` when IAM gives no ID: root keys, and keys known only from the credential report. */
  accessKeyId: string | null;
  status: KeyStatus;
  /** `null` only for a root key whose existence is known but not its date (account summary). */
  createDate: Date | null;
  lastUsedDate: Date | null;
  lastUsedService: string | null;
  lastUsedRegion: string | null;
  root: boolean;
}

export interface Inventory {
  method: ScanMethod;
  /** IAM users seen (the root user not counted). */
  userCount: number;
  keys: AccessKey[];
  /** When the credential report was generated (report method only). */
  reportGeneratedAt: Date | null;
  /** Users whose keys were confirmed with a live ListAccessKeys call. */
  confirmedUsers: number;
  /** Facts a reader of the summary should know about how the scan was made. */
  notes: string[];
}

export interface Account {
  id: string;
  alias: string | null;
  partition: Partition;
  /** The ARN the scan ran as. */
  callerArn: string;
}

export type Reason = 'age' | 'unused' | 'root-key';

export interface Finding extends AccessKey {
  ageDays: number | null;
  /** Whole UTC days since last use, or since creation when never used. */
  idleDays: number | null;
  reasons: Reason[];
}

export interface DueSoon extends AccessKey {
  ageDays: number;
  /** Days until the key reaches `max-age-days`. */
  daysLeft: number;
}

export interface Judgement {
  stale: Finding[];
  dueSoon: DueSoon[];
  /** Keys judged (exclusions removed). */
  scannedKeys: number;
  /** Distinct user names whose keys were skipped by `exclude-users`. */
  excludedUsers: string[];
  excludedKeys: number;
}
