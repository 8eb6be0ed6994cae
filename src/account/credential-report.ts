/**
 * Parsing the IAM credential report (CSV) into access keys. Pure.
 *
 * The CSV reader is our own: a 50,000-user report is 11 MB, and a general CSV library took over
 * 500 ms and 140 MB to turn it into row arrays, where splitting quote-free lines (nearly all of
 * them: only user names with commas get quoted) takes a tenth of that and keeps no rows.
 */
import { ROOT_USER, type AccessKey } from '../model.js';

export interface ParsedCredentialReport {
  /** IAM users in the report, the root user not counted; a user with several rows counts once. */
  userCount: number;
  /** Keys that exist (active or inactive), each once. IDs are `null`: the report has none. */
  keys: AccessKey[];
}

const REQUIRED_COLUMNS = ['user', 'arn'] as const;
/** Without these a key cannot be judged at all. */
const KEY_COLUMNS = ['active', 'last_rotated'] as const;
/** Without these a key's last use is unknown (`lastUseKnown: false`), not "never". */
const LAST_USE_COLUMNS = ['last_used_date', 'last_used_region', 'last_used_service'] as const;

export class CredentialReportFormatError extends Error {
  override name = 'CredentialReportFormatError';
}

/**
 * Reads the report as IAM writes it: a header row, quoted fields where needed, `N/A` for
 * "none", booleans in any case, and the root user as the row `<root_account>`.
 *
 * A report recorded from a real account repeats a user's row (test/fixtures/realdata,
 * cloud-custodian's `test_account_credential_report`: `christopher` twice, one row with a key and
 * one without).
 * IAM user names are unique, so the rows are one user: counted once, with the keys of all its
 * rows, and a key in several rows (same creation time) kept once, as active if any row says so
 * and with the latest last use any row gives. Nothing a row shows is dropped, and nothing is
 * counted twice.
 */
export function parseCredentialReport(csv: string): ParsedCredentialReport {
  const rows = records(csv);
  const first = rows.next();
  if (first.done) throw new CredentialReportFormatError('The credential report is empty.');
  const header = first.value;

  const index = new Map(header.map((name, i) => [name.trim().toLowerCase(), i]));
  const column = (name: string): number => {
    const i = index.get(name);
    if (i === undefined) {
      throw new CredentialReportFormatError(`The credential report has no "${name}" column.`);
    }
    return i;
  };
  for (const name of REQUIRED_COLUMNS) column(name);
  const userCol = column('user');
  const slots = [1, 2].map((n) => {
    const [active, rotated] = KEY_COLUMNS.map((c) => column(`access_key_${n}_${c}`));
    const [usedDate, usedRegion, usedService] = LAST_USE_COLUMNS.map((c) => index.get(`access_key_${n}_${c}`));
    return { active: active!, rotated: rotated!, usedDate, usedRegion, usedService };
  });

  const keys: AccessKey[] = [];
  const users = new Set<string>();
  /** Keys by user: built only when a user's row repeats (rare), then kept up to date. */
  let byUser: Map<string, AccessKey[]> | null = null;
  let line = 1;
  for (const row of rows) {
    line++;
    const user = row[userCol] ?? '';
    if (row.length !== header.length) {
      throw new CredentialReportFormatError(
        `The credential report's row ${line} (${user}) has ${row.length} fields where the header has ${header.length}.`,
      );
    }
    const root = user === ROOT_USER;
    const known = users.size;
    users.add(user);
    let earlier: AccessKey[] | null = null;
    if (users.size === known) {
      byUser ??= keysByUser(keys);
      earlier = [...(byUser.get(user) ?? [])];
    }
    for (const slot of slots) {
      const rotated = optional(row[slot.rotated]);
      // No key in this slot: `false` and `N/A`. An inactive key still has its date.
      if (rotated === null && !isTrue(row[slot.active])) continue;
      const where = `row ${line} (${user})`;
      const key: AccessKey = {
        user,
        accessKeyId: null,
        status: isTrue(row[slot.active]) ? 'Active' : 'Inactive',
        createDate: toDate(rotated, where),
        lastUsedDate: toDate(optional(cell(row, slot.usedDate)), where),
        lastUsedService: optional(cell(row, slot.usedService)),
        lastUsedRegion: optional(cell(row, slot.usedRegion)),
        lastUseKnown: slot.usedDate !== undefined,
        root,
      };
      // The same key in an earlier row of the same user: one creation time, one key.
      const same = earlier?.find((k) => k.createDate?.getTime() === key.createDate?.getTime());
      if (same) {
        merge(same, key);
        continue;
      }
      keys.push(key);
      if (byUser) byUser.set(user, [...(byUser.get(user) ?? []), key]);
    }
  }
  return { userCount: users.size - (users.has(ROOT_USER) ? 1 : 0), keys };
}

function keysByUser(keys: readonly AccessKey[]): Map<string, AccessKey[]> {
  const map = new Map<string, AccessKey[]>();
  for (const key of keys) map.set(key.user, [...(map.get(key.user) ?? []), key]);
  return map;
}

function cell(row: readonly string[], i: number | undefined): string | undefined {
  return i === undefined ? undefined : row[i];
}

/** One key seen in two rows of the same user: active if either says so, with the later last use. */
function merge(kept: AccessKey, other: AccessKey): void {
  if (other.status === 'Active') kept.status = 'Active';
  if (other.lastUsedDate && (!kept.lastUsedDate || other.lastUsedDate > kept.lastUsedDate)) {
    kept.lastUsedDate = other.lastUsedDate;
    kept.lastUsedService = other.lastUsedService;
    kept.lastUsedRegion = other.lastUsedRegion;
  }
}

/**
 * The records of RFC 4180 CSV, one at a time: fields separated by commas, optionally quoted with
 * `"` (`""` for a quote inside), lines ending in LF or CRLF, a leading byte-order mark ignored,
 * empty lines skipped.
 */
export function* records(csv: string): Generator<string[]> {
  const n = csv.length;
  let pos = csv.charCodeAt(0) === 0xfeff ? 1 : 0;
  let nextQuote = -1;
  while (pos < n) {
    let end = csv.indexOf('\n', pos);
    if (end < 0) end = n;
    if (nextQuote < pos) {
      nextQuote = csv.indexOf('"', pos);
      if (nextQuote < 0) nextQuote = n;
    }
    if (nextQuote >= end) {
      // The common case: no quote on this line.
      const line = csv.charCodeAt(end - 1) === 13 ? csv.slice(pos, end - 1) : csv.slice(pos, end);
      pos = end + 1;
      if (line !== '') yield line.split(',');
    } else {
      const { fields, next } = quotedRecord(csv, pos);
      pos = next;
      yield fields;
    }
  }
}

/** One record that has quotes somewhere, read field by field; a quoted field may hold commas and line breaks. */
function quotedRecord(csv: string, start: number): { fields: string[]; next: number } {
  const n = csv.length;
  const fields: string[] = [];
  let i = start;
  for (;;) {
    let field: string;
    if (csv[i] === '"') {
      field = '';
      for (i++; ;) {
        const quote = csv.indexOf('"', i);
        if (quote < 0)
          throw new CredentialReportFormatError(
            `The credential report is not valid CSV: a quote opened at offset ${i - 1} is never closed.`,
          );
        field += csv.slice(i, quote);
        i = quote + 1;
        if (csv[i] !== '"') break;
        field += '"';
        i++;
      }
    } else {
      let j = i;
      while (j < n && csv[j] !== ',' && csv[j] !== '\n' && csv[j] !== '\r') j++;
      field = csv.slice(i, j);
      i = j;
    }
    fields.push(field);
    if (csv[i] === ',') {
      i++;
      continue;
    }
    if (csv[i] === '\r') i++;
    if (i >= n || csv[i] === '\n') return { fields, next: i + 1 };
    throw new CredentialReportFormatError(
      `The credential report is not valid CSV: unexpected "${csv[i]}" after a quoted field at offset ${i}.`,
    );
  }
}

/** `N/A`, `no_information`, `not_supported` and empty all mean "nothing here". */
function optional(value: string | undefined): string | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '' || /^(n\/a|no_information|not_supported)$/i.test(v)) return null;
  return v;
}

function isTrue(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function toDate(value: string | null, where: string): Date | null {
  if (value === null) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new CredentialReportFormatError(`The credential report has an unreadable date "${value}" in ${where}.`);
  }
  return d;
}
