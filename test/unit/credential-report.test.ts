import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CredentialReportFormatError, parseCredentialReport, records } from '../../src/core/credential-report.js';

const fixture = readFileSync(new URL('../fixtures/credential-report.csv', import.meta.url), 'utf8');

describe('parseCredentialReport', () => {
  const parsed = parseCredentialReport(fixture);

  it('counts IAM users, not the root user', () => {
    expect(parsed.userCount).toBe(3);
  });

  it('reads the root row as a root key without an ID', () => {
    const root = parsed.keys.filter((k) => k.root);
    expect(root).toEqual([
      {
        user: '<root_account>',
        accessKeyId: null,
        status: 'Active',
        createDate: new Date('2020-06-01T12:00:00Z'),
        lastUsedDate: new Date('2026-11-01T09:15:00Z'),
        lastUsedService: 's3',
        lastUsedRegion: 'us-east-1',
        lastUseKnown: true,
        root: true,
      },
    ]);
  });

  it('reads both key slots, with N/A as never used', () => {
    const alice = parsed.keys.filter((k) => k.user === 'alice');
    expect(alice).toHaveLength(2);
    expect(alice[0]).toMatchObject({
      status: 'Active',
      createDate: new Date('2026-04-01T09:30:00Z'),
      lastUsedService: 'ec2',
      lastUsedRegion: 'eu-west-1',
    });
    expect(alice[1]).toMatchObject({
      status: 'Active',
      createDate: new Date('2026-11-10T08:00:00Z'),
      lastUsedDate: null,
      lastUsedService: null,
      lastUsedRegion: null,
    });
  });

  it('unquotes fields and compares booleans without regard to case', () => {
    const ci = parsed.keys.filter((k) => k.user === 'ci,deploy');
    expect(ci.map((k) => k.status)).toEqual(['Active', 'Inactive']);
    expect(ci[0]!.lastUsedService).toBe('sts');
    expect(ci[1]!.createDate).toEqual(new Date('2024-01-01T00:00:00Z'));
  });

  it('gives a user without keys no key', () => {
    expect(parsed.keys.some((k) => k.user === 'bob')).toBe(false);
    expect(parsed.keys).toHaveLength(5);
  });

  it('reads a report with a byte-order mark and CRLF line ends', () => {
    const crlf = `\uFEFF${fixture.replace(/\n/g, '\r\n')}`;
    expect(parseCredentialReport(crlf)).toEqual(parsed);
  });

  it('names a missing column', () => {
    const broken = fixture.replace('access_key_2_last_rotated', 'access_key_2_rotated');
    expect(() => parseCredentialReport(broken)).toThrow(/no "access_key_2_last_rotated" column/);
  });

  it('names the row of an unreadable date', () => {
    const broken = fixture.replace('2026-04-01T09:30:00+00:00', 'yesterday');
    expect(() => parseCredentialReport(broken)).toThrow(CredentialReportFormatError);
    expect(() => parseCredentialReport(broken)).toThrow(/"yesterday" in row 3 \(alice\)/);
  });

  it('rejects an empty report, malformed CSV and a short row', () => {
    const header = fixture.split('\n')[0]!;
    expect(() => parseCredentialReport('')).toThrow(/empty/);
    expect(() => parseCredentialReport(`${header}\n"alice,arn`)).toThrow(
      /not valid CSV: a quote opened at offset \d+ is never closed/,
    );
    expect(() => parseCredentialReport(`${header}\n"alice"x,arn`)).toThrow(
      /not valid CSV: unexpected "x" after a quoted field/,
    );
    expect(() => parseCredentialReport(`${header}\nalice,arn:aws:iam::1:user/alice`)).toThrow(
      "The credential report's row 2 (alice) has 2 fields where the header has 22.",
    );
  });
});

describe('records', () => {
  it('reads RFC 4180: quotes, doubled quotes, commas and line breaks in quotes, CRLF, empty fields', () => {
    const csv = 'a,b,c\r\n"x,1","say ""hi""",\n"multi\nline",,"z"\n\nlast,"",end';
    expect([...records(csv)]).toEqual([
      ['a', 'b', 'c'],
      ['x,1', 'say "hi"', ''],
      ['multi\nline', '', 'z'],
      ['last', '', 'end'],
    ]);
  });
});
