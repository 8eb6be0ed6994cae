/**
 * Who owns a key and why it is exempt, as the tracking issue shows them. Pure.
 *
 * Everything read from IAM tags is inert: written in a code span, where `@team` mentions no one, a
 * URL or `[x](y)` links nowhere and `<b>` is text. The one thing that acts is the owner's GitHub
 * login, when it has the shape of one: it is @-mentioned on purpose, beside the key's task in the
 * body and in the comment that first calls the key stale, so that GitHub tells its owner.
 */
import type { Finding, Judgement, Owner } from '../model.js';

/** What GitHub accepts as a login; anything else is never mentioned. */
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
/** IAM tag values are at most 256 characters; a table cell needs less. */
const MAX_OWNER = 100;
const MAX_REASON = 200;

/**
 * `text` as a code span: nothing inside is markup, a mention or a link. The fence is one backtick
 * longer than the longest run of backticks inside. In a table cell, `|` is escaped: GitHub reads
 * `\|` as a pipe even in a code span, and a bare one would end the cell. Line breaks and control
 * characters become spaces; text longer than `max` is clipped. Empty text is `''`.
 */
export function inertCode(text: string, inTable = false, max = MAX_OWNER): string {
  // eslint-disable-next-line no-control-regex
  let t = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  const chars = Array.from(t);
  if (chars.length > max) t = `${chars.slice(0, max - 1).join('')}…`;
  if (!t) return '';
  if (inTable) t = t.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** The key's owner, from its user's tags. */
export function ownerOf(f: Pick<Finding, 'user' | 'root'>, judgement: Judgement): Owner | undefined {
  return f.root ? undefined : judgement.owners.get(f.user);
}

/** The owner's GitHub login when it has the shape of one. */
export function githubLogin(owner: Owner | undefined): string | null {
  const login = owner?.handles.github?.replace(/^@/, '');
  return login && GITHUB_LOGIN.test(login) ? login : null;
}

/**
 * The owner beside a key, or `''`: `owner: \`Payments team\``, with ` @login` when `mention`. A
 * login not mentioned is shown inert when there is no text.
 */
export function ownerNote(owner: Owner | undefined, mention: boolean): string {
  const login = githubLogin(owner);
  const text = owner?.text ? inertCode(owner.text) : login && !mention ? inertCode(`@${login}`) : '';
  const parts = [text, mention && login ? `@${login}` : ''].filter(Boolean);
  return parts.length > 0 ? `owner: ${parts.join(' ')}` : '';
}

/** The owner in a table cell, never a mention: its text, or its login, inert; `''` when none. */
export function ownerCell(owner: Owner | undefined): string {
  if (owner?.text) return inertCode(owner.text, true);
  const login = githubLogin(owner);
  return login ? inertCode(`@${login}`, true) : '';
}

/** Why the user's exemption was not granted, beside a stale key, or `''`. */
export function refusedNote(f: Pick<Finding, 'user' | 'root'>, judgement: Judgement, inTable = false): string {
  const why = f.root ? undefined : judgement.refusedExemptions.get(f.user);
  return why ? `exemption not applied: ${inertCode(why, inTable, MAX_REASON)}` : '';
}

/** An exemption's reason, inert. */
export function reasonCode(reason: string, inTable = false): string {
  return inertCode(reason, inTable, MAX_REASON);
}

/**
 * The notes beside a stale key in a task line or a comment, each after `; `: its owner (mentioned
 * when `mention`) and why its exemption was not applied.
 */
export function staleNotes(f: Finding, judgement: Judgement, mention: boolean): string {
  return [ownerNote(ownerOf(f, judgement), mention), refusedNote(f, judgement)]
    .filter(Boolean)
    .map((note) => `; ${note}`)
    .join('');
}
