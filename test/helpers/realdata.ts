/**
 * Reads the real-data fixtures (test/fixtures/realdata, origins in its SOURCES.md) as they were
 * recorded: placebo answers of boto3, CloudMapper's saved answer, or a bare CSV.
 */
import { existsSync, readFileSync } from 'node:fs';

const COPIED = new URL('../fixtures/realdata/', import.meta.url);

/**
 * cloud-custodian's recordings reached the workplace's `shared/realdata/` through a fetch, and
 * fetched files are kept in commits only there: they are read in place, from the `shared/` folder
 * beside this checkout (CI and every developer machine here have it), never copied.
 */
const SHARED = new URL('../../../shared/realdata/fixtures/', import.meta.url);
export const SHARED_REALDATA = existsSync(new URL('cloud-custodian/', SHARED));

/** A fixture's text, byte for byte. */
export function realdataText(path: string): string {
  return readFileSync(new URL(path, path.startsWith('cloud-custodian/') ? SHARED : COPIED), 'utf8');
}

/** `csv` without the columns whose names match `drop`: a real report made to lack some. Quote-free CSV only. */
export function withoutColumns(csv: string, drop: RegExp): string {
  const lines = csv.split('\n').map((line) => line.split(','));
  const keep = lines[0]!.map((name, i) => (drop.test(name) ? -1 : i)).filter((i) => i >= 0);
  return lines.map((fields) => keep.map((i) => fields[i]).join(',')).join('\n');
}

/** Placebo saves boto3's `datetime` values as their parts, naive; IAM's are UTC. */
interface PlaceboDatetime {
  __class__: 'datetime';
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
}

export interface RecordedReport {
  csv: string;
  generatedAt: Date;
}

/** A recorded boto3 answer: the HTTP status, and the answer or its error. */
export interface PlaceboAnswer {
  status_code: number;
  data: {
    Content?: string;
    GeneratedTime?: PlaceboDatetime;
    State?: string;
    Users?: Array<{ UserName: string }>;
    Error?: { Code: string; Type: string };
  };
}

/**
 * Without shared/, a cloud-custodian recording reads as an empty answer, so that the suites that use
 * it can be collected; every test that asserts on one is skipped then (`SHARED_REALDATA`).
 */
function absent(path: string): boolean {
  return path.startsWith('cloud-custodian/') && !SHARED_REALDATA;
}

export function placebo(path: string): PlaceboAnswer {
  if (absent(path)) return { status_code: 0, data: { Users: [] } };
  return JSON.parse(realdataText(path)) as PlaceboAnswer;
}

export function placeboTime(t: PlaceboDatetime): Date {
  return new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.microsecond / 1000));
}

/** A recorded GetCredentialReport answer: placebo's (`data.Content`) or CloudMapper's (`Content`). */
export function recordedReport(path: string): RecordedReport {
  if (absent(path))
    return { csv: realdataText('security-hq/testReport.csv').split('\n')[0]!, generatedAt: new Date(0) };
  const json = JSON.parse(realdataText(path)) as
    PlaceboAnswer | { Content: string; GeneratedTime: string; ReportFormat: string };
  if ('data' in json) {
    if (json.status_code !== 200 || json.data.Content === undefined || !json.data.GeneratedTime) {
      throw new Error(`${path} holds no report (HTTP ${json.status_code})`);
    }
    return { csv: json.data.Content, generatedAt: placeboTime(json.data.GeneratedTime) };
  }
  return { csv: json.Content, generatedAt: new Date(json.GeneratedTime) };
}
