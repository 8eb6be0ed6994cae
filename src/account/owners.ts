/**
 * What an IAM user's tags say about its keys: who owns them (free text, and a handle for each place
 * people are told), and whether a stale key is accepted risk until a date. Pure; the clock is passed
 * in. Tags are read only for users with a stale key, so only stale keys carry owners.
 *
 * An exemption never hides a key: an exempted key stays listed, with who, until when and why, and
 * only stops failing the job. Anything doubtful does not exempt: a date too far off, a date that
 * cannot be read, a missing reason. Root keys are never exempt.
 */
import {
  HANDLE_PLACES,
  type Exemption,
  type ExemptedFinding,
  type Finding,
  type HandlePlace,
  type Judgement,
  type Owner,
} from '../model.js';
import { utcDaysBetween } from './days.js';

export interface OwnerSettings {
  /** The tag holding free text about the owner (matched without regard to case). Default `owner`. */
  ownerTag: string;
  /** The prefix of the action's own tags (matched without regard to case). Default `iam-stale-keys:`. */
  tagPrefix: string;
  /** How far ahead an exemption may end, in days from today. Default 90. */
  maxExemptionDays: number;
}

/** What each handle must look like: one that does not is not used (it would mention no one, or someone else). */
const HANDLE_SHAPES: Record<HandlePlace, RegExp> = {
  github: /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/,
  wecom: /^[\w.@-]{1,64}$/,
  dingtalk: /^\+?\d[\d-]{4,19}$/,
  feishu: /^ou_[A-Za-z0-9]{1,64}$/,
  slack: /^[UW][A-Z0-9]{2,20}$/,
};

/** What one user's tags say. */
export interface UserClaims {
  owner: Owner | null;
  exemption: Exemption | null;
  /** Why the tags asked for an exemption that was not granted, for people. */
  refused: string | null;
  /** Tags that were set but could not be used (a handle of the wrong shape), for people. */
  ignored: string[];
}

/** Reads one user's tags. Tag keys are matched without regard to case; values are trimmed. */
export function readClaims(tags: Readonly<Record<string, string>>, settings: OwnerSettings, now: Date): UserClaims {
  const byKey = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const prefix = settings.tagPrefix.toLowerCase();
  const own = (name: string) => byKey.get(`${prefix}${name}`) || null;

  const ignored: string[] = [];
  const handles: Owner['handles'] = {};
  for (const place of HANDLE_PLACES) {
    const value = own(place);
    if (!value) continue;
    if (HANDLE_SHAPES[place].test(value.replace(/^@/, ''))) handles[place] = value.replace(/^@/, '');
    else ignored.push(`${settings.tagPrefix}${place} "${value}" is not a ${HANDLE_DESCRIPTIONS[place]}`);
  }
  const text = byKey.get(settings.ownerTag.toLowerCase()) || null;
  const owner = text || Object.keys(handles).length > 0 ? { text, handles } : null;

  const until = own('exempt-until');
  const reason = own('exempt-reason');
  if (!until && !reason) return { owner, exemption: null, refused: null, ignored };
  const tag = (name: string) => `${settings.tagPrefix}${name}`;
  if (!until)
    return {
      owner,
      exemption: null,
      refused: `${tag('exempt-reason')} is set but ${tag('exempt-until')} is not`,
      ignored,
    };
  const end = parseDay(until);
  if (!end) {
    return { owner, exemption: null, refused: `${tag('exempt-until')} "${until}" is not a date (YYYY-MM-DD)`, ignored };
  }
  if (!reason)
    return {
      owner,
      exemption: null,
      refused: `${tag('exempt-until')} is set but ${tag('exempt-reason')} is not`,
      ignored,
    };
  const days = utcDaysBetween(now, end);
  if (days < 0) return { owner, exemption: null, refused: `the exemption ended on ${until}`, ignored };
  if (days > settings.maxExemptionDays) {
    return {
      owner,
      exemption: null,
      refused: `${tag('exempt-until')} ${until} is ${days} days away, more than max-exemption-days (${settings.maxExemptionDays})`,
      ignored,
    };
  }
  return { owner, exemption: { until, reason }, refused: null, ignored };
}

const HANDLE_DESCRIPTIONS: Record<HandlePlace, string> = {
  github: 'GitHub login',
  wecom: 'WeCom user ID',
  dingtalk: 'mobile number',
  feishu: 'Feishu open ID (ou_…)',
  slack: 'Slack member ID (U…)',
};

/** `YYYY-MM-DD` as that UTC day, or `null` when it is not a real date. */
function parseDay(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value ? date : null;
}

/**
 * Moves the stale keys of exempted users out of `stale` into `exempted`, and records owners. With
 * no tags (`null`: not read, or could not be), nothing is exempted and no one owns anything.
 */
export function applyClaims(
  judgement: Judgement,
  tags: ReadonlyMap<string, Readonly<Record<string, string>>> | null,
  settings: OwnerSettings,
  now: Date,
): Judgement {
  const owners = new Map<string, Owner>();
  const refused = new Map<string, string>();
  const ignored: string[] = [];
  const exemptions = new Map<string, Exemption>();
  for (const [user, userTags] of tags ?? []) {
    const claims = readClaims(userTags, settings, now);
    if (claims.owner) owners.set(user, claims.owner);
    if (claims.exemption) exemptions.set(user, claims.exemption);
    if (claims.refused) refused.set(user, claims.refused);
    ignored.push(...claims.ignored.map((s) => `IAM user ${user}: ${s}`));
  }
  const stale: Finding[] = [];
  const exempted: ExemptedFinding[] = [];
  for (const finding of judgement.stale) {
    const exemption = finding.root ? undefined : exemptions.get(finding.user);
    if (exemption) exempted.push({ ...finding, exemption });
    else stale.push(finding);
  }
  return { ...judgement, stale, exempted, owners, refusedExemptions: refused, tagNotes: ignored };
}
