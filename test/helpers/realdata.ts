/**
 * Reads the real-data fixtures (test/fixtures/realdata, origins in its SOURCES.md) as they were
 * recorded: placebo answers of boto3, CloudMapper's saved answer, or a bare CSV.
 */
import { readFileSync } from 'node:fs';

const ROOT = new URL('../fixtures/realdata/', import.meta.url);

/** A fixture's text, byte for byte. */
export function realdataText(path: string): string {
  return readFileSync(new URL(path, ROOT), 'utf8');
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

export function placebo(path: string): PlaceboAnswer {
  return JSON.parse(realdataText(path)) as PlaceboAnswer;
}

export function placeboTime(t: PlaceboDatetime): Date {
  return new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.microsecond / 1000));
}

/** A recorded GetCredentialReport answer: placebo's (`data.Content`) or CloudMapper's (`Content`). */
export function recordedReport(path: string): RecordedReport {
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
