import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readConfig } from '../../src/inputs.js';

interface ActionYml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as ActionYml;
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The first column and the second of the table under a README heading, backticks removed. */
function tableUnder(heading: string): Map<string, string> {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return new Map(
    rows.map((row) => {
      const [name = '', second = ''] = row
        .split('|')
        .slice(1)
        .map((c) => c.trim().replace(/^`|`$/g, ''));
      return [name, second];
    }),
  );
}

describe('action.yml and README agree', () => {
  it('runs the committed bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });

  it('documents every input the code reads, with the same defaults', () => {
    // The runner passes every input with its action.yml default: those must make a valid config.
    const read = new Set<string>();
    readConfig((name) => {
      read.add(name);
      return (action.inputs[name]?.default ?? '').replace('${{ github.token }}', 'ghs_token');
    });
    expect(new Set(Object.keys(action.inputs))).toEqual(read);
    const documented = tableUnder('Inputs');
    expect(new Set(documented.keys())).toEqual(read);
    for (const [name, spec] of Object.entries(action.inputs)) {
      expect(documented.get(name), `README default of ${name}`).toBe(spec.default ?? '');
      expect(spec.required, `${name} is optional`).toBe(false);
    }
  });

  it('documents every output', () => {
    expect(new Set(tableUnder('Outputs').keys())).toEqual(new Set(Object.keys(action.outputs)));
  });

  it('leads with the two commands a newcomer needs', () => {
    const head = readme.split('\n').slice(0, 6).join('\n');
    expect(head).toContain('npm run demo');
    expect(head).toContain('npm test');
  });
});
