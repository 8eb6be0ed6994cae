/** Parsing the IAM credential report (CSV) into access keys. Pure. */
import { parse } from 'csv-parse/sync';
import { ROOT_USER, type AccessKey } from '../model.js';

export interface ParsedCredentialReport {
  /** IAM users in the report, the root user not counted. */
  userCount: number;
  /** Keys that exist (active or inactive). IDs are `null`: the report has none. */
  keys: AccessKey[];
}

const REQUIRED_COLUMNS = ['user', 'arn'] as const;
const KEY_COLUMNS = ['active', 'last_rotated', 'last_used_date', 'last_used_region', 'last_used_service'] as const;

export class CredentialReportFormatError extends Error {
  override name = 'CredentialReportFormatError';
}

/**
 * Reads the report as IAM writes it: a header row, quoted fields where needed, `N/A` for
 * "none", booleans in any case, and the root user as the row `<root_account>`.
 */
export function parseCredentialReport(csv: string): ParsedCredentialReport {
  let records: string[][];
  try {
    records = parse(csv, { bom: true, skip_empty_lines: true, relax_column_count: false });
  } catch (err) {
    throw new CredentialReportFormatError(`The credential report is not valid CSV: ${(err as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw new CredentialReportFormatError('The credential report is empty.');

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
    const [active, rotated, usedDate, usedRegion, usedService] = KEY_COLUMNS.map((c) => column(`access_key_${n}_${c}`));
    return {
      active: active!,
      rotated: rotated!,
      usedDate: usedDate!,
      usedRegion: usedRegion!,
      usedService: usedService!,
    };
  });

  const keys: AccessKey[] = [];
  let userCount = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const user = row[userCol] ?? '';
    const root = user === ROOT_USER;
    if (!root) userCount++;
    for (const slot of slots) {
      const rotated = optional(row[slot.rotated]);
      // No key in this slot: `false` and `N/A`. An inactive key still has its date.
      if (rotated === null && !isTrue(row[slot.active])) continue;
      const where = `row ${r + 2} (${user})`;
      keys.push({
        user,
        accessKeyId: null,
        status: isTrue(row[slot.active]) ? 'Active' : 'Inactive',
        createDate: toDate(rotated, where),
        lastUsedDate: toDate(optional(row[slot.usedDate]), where),
        lastUsedService: optional(row[slot.usedService]),
        lastUsedRegion: optional(row[slot.usedRegion]),
        root,
      });
    }
  }
  return { userCount, keys };
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
