import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CredentialReportFormatError, parseCredentialReport, records } from '../../src/account/credential-report.js';
import { realdataText, withoutColumns } from '../helpers/realdata.js';

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

/** security-hq's report, recorded from a real account (test/fixtures/realdata/SOURCES.md): quote-free, no final newline. */
const real = realdataText('security-hq/testReport.csv');

describe('parseCredentialReport on what real reports do', () => {
  const parsed = parseCredentialReport(real);

  it('keeps a user whose row is repeated once, and each key once', () => {
    const row = real.split('\n').find((line) => line.startsWith('with-disabled-key,'))!;
    const twice = parseCredentialReport(`${real}\n${row}`);
    expect(twice).toEqual(parsed);
    expect(twice.userCount).toBe(4);
    expect(twice.keys.filter((k) => k.user === 'with-disabled-key')).toHaveLength(2);
  });

  it('takes from repeated rows the keys of both, a key seen twice as active if either says so, with the later use', () => {
    const header = real.split('\n')[0]!;
    const rows = [
      // Key 1 inactive, last used 2017-04-19; key 2 absent.
      'bob,arn:aws:iam::0123456789:user/bob,2016-09-30T09:20:00+00:00,false,N/A,N/A,N/A,false,false,2017-04-19T15:47:39+00:00,2017-04-19T15:48:00+00:00,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
      // The same key 1 active and used later; a second key.
      'bob,arn:aws:iam::0123456789:user/bob,2016-09-30T09:20:00+00:00,false,N/A,N/A,N/A,false,TRUE,2017-04-19T15:47:39+00:00,2017-05-01T10:00:00+00:00,us-east-1,sts,true,2017-04-20T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A',
      // The first row again, older.
      'bob,arn:aws:iam::0123456789:user/bob,2016-09-30T09:20:00+00:00,false,N/A,N/A,N/A,false,false,2017-04-19T15:47:39+00:00,2017-04-19T15:48:00+00:00,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
    ];
    const bob = parseCredentialReport([header, ...rows].join('\n'));
    expect(bob.userCount).toBe(1);
    expect(
      bob.keys.map((k) => [
        k.status,
        k.createDate?.toISOString(),
        k.lastUsedDate?.toISOString(),
        k.lastUsedService,
        k.lastUsedRegion,
      ]),
    ).toEqual([
      ['Active', '2017-04-19T15:47:39.000Z', '2017-05-01T10:00:00.000Z', 'sts', 'us-east-1'],
      ['Active', '2017-04-20T00:00:00.000Z', undefined, null, null],
    ]);
  });

  it('reads a report without the password and certificate columns the same', () => {
    const slim = withoutColumns(real, /^(password_|cert_|mfa_|user_creation_time)/);
    expect(slim.split('\n')[0]!.split(',')).toHaveLength(12);
    expect(parseCredentialReport(slim)).toEqual(parsed);
  });

  it('reads a report without the last-use columns as keys whose last use is unknown, not never', () => {
    const noUse = parseCredentialReport(withoutColumns(real, /_last_used_/));
    expect(noUse.keys).toEqual(
      parsed.keys.map((k) => ({
        ...k,
        lastUsedDate: null,
        lastUsedService: null,
        lastUsedRegion: null,
        lastUseKnown: false,
      })),
    );
  });

  it('still names a missing column that a key cannot be judged without', () => {
    expect(() => parseCredentialReport(withoutColumns(real, /^access_key_1_active$/))).toThrow(
      'The credential report has no "access_key_1_active" column.',
    );
  });

  it('reads no_information and not_supported in the last-use columns as nothing, as it does N/A', () => {
    const edited = real
      .replace('2017-08-30T13:32:00+00:00,eu-west-1,ec2', 'no_information,not_supported,N/A')
      .replace('2016-04-04T11:18:00+00:00,us-east-1,iam', 'NO_INFORMATION,N/A,not_supported');
    const keys = parseCredentialReport(edited).keys.filter(
      (k) => k.user === 'credential-user' || k.user === 'different-region',
    );
    expect(keys.map((k) => [k.user, k.lastUsedDate, k.lastUsedService, k.lastUsedRegion, k.lastUseKnown])).toEqual([
      ['different-region', null, null, null, true],
      ['credential-user', null, null, null, true],
    ]);
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
