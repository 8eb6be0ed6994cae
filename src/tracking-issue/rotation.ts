/**
 * How to rotate stale keys without an outage, as Markdown lines for an issue body or a job summary.
 * Pure.
 *
 * `rotationSteps(stale, keyId)` gives the steps, then the exact AWS CLI commands for each of the
 * first few keys whose full ID is shown (`keyId(id) === id`), then the same commands with
 * placeholders for every other key, then the root user's advice when a root key is stale. Where
 * key IDs are redacted (public repositories) only the placeholder form appears, with the command
 * that shows the full IDs.
 */
import type { Finding } from '../model.js';
import { plural } from '../render/markdown.js';
import { userMarkdown, type KeyIdStyle } from '../render/present.js';

export interface RotationOptions {
  /** How many keys get commands of their own; the rest share the placeholder form. Default 5. */
  maxKeys?: number;
}

export const ROTATION_MAX_KEYS = 5;

export function rotationSteps(stale: readonly Finding[], keyId: KeyIdStyle, options: RotationOptions = {}): string[] {
  const iam = stale.filter((f) => !f.root);
  const hasRoot = stale.some((f) => f.root);
  const lines: string[] = [];
  if (iam.length > 0) {
    const shown = iam.filter((f) => f.accessKeyId !== null && keyId(f.accessKeyId) === f.accessKeyId);
    const own = shown.slice(0, Math.max(0, options.maxKeys ?? ROTATION_MAX_KEYS));
    lines.push(
      'For each key, without an outage:',
      '1. Create a second access key for the user.',
      '2. Move every application, CI secret and config that uses the old key to the new one.',
      '3. Deactivate the old key.',
      "4. Watch for breakage for a few days: application errors, and the old key's last-used date in IAM.",
      '5. Delete the old key.',
      '',
      'IAM allows two access keys per user: if the user already has two, delete the one nobody uses first.',
    );
    for (const f of own) lines.push('', ...keyCommands(f));
    const others = iam.length - own.length;
    if (others > 0) {
      const intro =
        own.length === 0
          ? 'The commands, with the user name and the full ID of each key (`aws iam list-access-keys --user-name USER` lists them):'
          : `For the other ${plural(others, 'key', 'keys')}, the same commands with the user name and the key's full ID:`;
      lines.push(
        '',
        intro,
        '',
        '```sh',
        'aws iam create-access-key --user-name USER',
        'aws iam update-access-key --user-name USER --access-key-id OLD --status Inactive',
        'aws iam delete-access-key --user-name USER --access-key-id OLD',
        '```',
      );
    }
  }
  if (hasRoot) {
    if (lines.length > 0) lines.push('');
    lines.push(
      'A root user key should not exist at all: sign in as the root user, delete the key under Security credentials, and use IAM roles instead.',
    );
  }
  return lines;
}

/** The commands for one key: steps 1, 3 and 5, or only 5 for a key already inactive. */
function keyCommands(f: Finding): string[] {
  const user = shellWord(f.user);
  const id = f.accessKeyId!;
  if (f.status === 'Inactive') {
    return [
      `${userMarkdown(f)}, key \`${id}\` is already inactive: delete it once nothing needs it back.`,
      '',
      '```sh',
      `aws iam delete-access-key --user-name ${user} --access-key-id ${id}`,
      '```',
    ];
  }
  return [
    `${userMarkdown(f)}, key \`${id}\` (steps 1, 3 and 5):`,
    '',
    '```sh',
    `aws iam create-access-key --user-name ${user}`,
    `aws iam update-access-key --user-name ${user} --access-key-id ${id} --status Inactive`,
    `aws iam delete-access-key --user-name ${user} --access-key-id ${id}`,
    '```',
  ];
}

/** IAM user names are `[\w+=,.@-]`, all safe in a shell; anything else is single-quoted. */
function shellWord(word: string): string {
  return /^[\w+=,.@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
