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
  /** `null` when never used, or when not known (see `lastUseKnown`). */
  lastUsedDate: Date | null;
  lastUsedService: string | null;
  lastUsedRegion: string | null;
  /** `false` when last use was not looked up or could not be read: `lastUsedDate: null` then says nothing. */
  lastUseKnown: boolean;
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
  /** What the scan could not see. */
  coverage: Coverage;
}

/**
 * Something the scan could not check, and what closes it. A gap in which a stale key could hide
 * makes the scan incomplete; one that hides nothing is a note.
 */
export interface Gap {
  /** What was not checked, as a sentence for people: `Root access keys were not checked`. */
  what: string;
  /** The permission or step that closes the gap: `Grant iam:GetAccountSummary`. */
  fix: string;
  /** Whether a stale key could hide in it. */
  couldHideStale: boolean;
}

/** What the inventory could not see: the judgement never calls anything in here resolved. */
export interface Coverage {
  gaps: Gap[];
  /** Users whose keys could not be listed; `'all'` when the users themselves could not be listed. */
  unseenUsers: ReadonlySet<string> | 'all';
  /** Whether root access keys were checked (the report's root row, or the account summary). */
  rootChecked: boolean;
}

/** A complete view of the account: nothing unseen. */
export const FULL_COVERAGE: Coverage = { gaps: [], unseenUsers: new Set(), rootChecked: true };

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
  /** `exclude-users` patterns that matched no user with a key: likely a typo. */
  unmatchedExclusions: string[];
  /**
   * Keys not found stale whose verdict could not be made: active keys whose last use is unknown
   * while `max-unused-days` needs it, and keys judged by age whose creation date is missing or in
   * the future. They may be stale, and are never called resolved.
   */
  undetermined: AccessKey[];
  /**
   * Stale keys exempted by their user's tags until a date: listed with who, until when and why,
   * and not failing the job. Empty until the tags are read (`applyClaims`).
   */
  exempted: ExemptedFinding[];
  /** Each user's owner, from its tags; read only for users with a stale key. */
  owners: ReadonlyMap<string, Owner>;
  /** Per user: why its tags' exemption was not granted (ended, too far off, unreadable, no reason). */
  refusedExemptions: ReadonlyMap<string, string>;
  /** Tags set but not usable (a handle of the wrong shape), for people. */
  tagNotes: string[];
}

/** The places a handle can name someone, each held by the tag `${tag-prefix}${place}`. */
export const HANDLE_PLACES = ['github', 'wecom', 'dingtalk', 'feishu', 'slack'] as const;
export type HandlePlace = (typeof HANDLE_PLACES)[number];

/** Who owns an IAM user's keys, from the user's tags. */
export interface Owner {
  /** The owner tag's text: a name, a team, an e-mail. */
  text: string | null;
  handles: Partial<Record<HandlePlace, string>>;
}

/** Accepted risk: a user's stale keys do not fail the job until the end of `until`. */
export interface Exemption {
  /** The last day (UTC) of the exemption, `YYYY-MM-DD`. */
  until: string;
  reason: string;
}

/** A stale key its user's tags exempt, until a date. */
export type ExemptedFinding = Finding & { exemption: Exemption };
