import { describe, expect, it } from 'vitest';
import { judge } from '../../src/account/judge.js';
import { fullKeyId, redactKeyId } from '../../src/render/present.js';
import { rotationSteps } from '../../src/tracking-issue/rotation.js';
import { ROOT_USER, type AccessKey } from '../../src/model.js';
import { key, now, policy } from '../helpers/scan-fixtures.js';

const stale = (keys: AccessKey[]) => judge(keys, { ...policy, includeInactive: true }, now).stale;

describe('rotationSteps', () => {
  it('gives the steps and the exact commands for a key whose full ID is shown', () => {
    const [alice] = stale([key('alice', 200)]);
    const text = rotationSteps([alice!], fullKeyId).join('\n');
    expect(text).toContain('1. Create a second access key for the user.');
    expect(text).toContain(
      [
        '```sh',
        'aws iam create-access-key --user-name alice',
        `aws iam update-access-key --user-name alice --access-key-id ${alice!.accessKeyId} --status Inactive`,
        `aws iam delete-access-key --user-name alice --access-key-id ${alice!.accessKeyId}`,
        '```',
      ].join('\n'),
    );
    expect(text).not.toContain('USER');
    expect(text).not.toContain('root user');
  });

  it('stops giving commands of their own after a bounded number of keys', () => {
    const keys = stale(Array.from({ length: 8 }, (_, i) => key(`user${i}`, 100 + i)));
    const text = rotationSteps(keys, fullKeyId, { maxKeys: 3 }).join('\n');
    expect(text.match(/aws iam create-access-key --user-name user\d/g)).toHaveLength(3);
    expect(text).toContain("For the other 5 keys, the same commands with the user name and the key's full ID:");
    expect(text).toContain('aws iam create-access-key --user-name USER');
    expect(rotationSteps(keys.slice(0, 1), fullKeyId, { maxKeys: 3 }).join('\n')).not.toContain('For the other');
    expect(rotationSteps(stale([key('a', 100), key('b', 101)]), fullKeyId, { maxKeys: 1 }).join('\n')).toContain(
      'For the other 1 key,',
    );
  });

  it('shows no key ID where IDs are redacted, and says how to list them', () => {
    const keys = stale([key('alice', 200), key('bob', 120)]);
    const text = rotationSteps(keys, redactKeyId).join('\n');
    expect(text).not.toMatch(/AKIA\w{4}/);
    expect(text).toContain('aws iam list-access-keys --user-name USER');
    expect(text).toContain('aws iam update-access-key --user-name USER --access-key-id OLD --status Inactive');
    expect(text).not.toContain('--user-name alice');
  });

  it('only deletes a key that is already inactive', () => {
    const keys = stale([key('old', 300, { status: 'Inactive' })]);
    const text = rotationSteps(keys, fullKeyId).join('\n');
    expect(text).toContain('is already inactive: delete it once nothing needs it back.');
    expect(text).toContain(`aws iam delete-access-key --user-name old --access-key-id ${keys[0]!.accessKeyId}`);
    expect(text).not.toContain('create-access-key --user-name old');
  });

  it('gives the root user advice for a root key, and no IAM commands when it is the only one', () => {
    const root = key(ROOT_USER, 900, { root: true, accessKeyId: null });
    const only = rotationSteps(stale([root]), fullKeyId);
    expect(only).toEqual([
      'A root user key should not exist at all: sign in as the root user, delete the key under Security credentials, and use IAM roles instead.',
    ]);
    const both = rotationSteps(stale([root, key('alice', 200)]), fullKeyId).join('\n');
    expect(both).toContain('--user-name alice');
    expect(both).toContain('A root user key should not exist at all');
    expect(both).not.toContain(ROOT_USER);
    expect(rotationSteps([], fullKeyId)).toEqual([]);
  });

  it('quotes a user name a shell would read otherwise, and names users in code spans', () => {
    const [odd] = stale([key("o'brien x", 200, { accessKeyId: 'AKIAODD0000000000001' })]);
    const text = rotationSteps([odd!], fullKeyId).join('\n');
    expect(text).toContain(`aws iam create-access-key --user-name 'o'\\''brien x'`);
    const [mail] = stale([key('first.last@example.com', 200)]);
    const mailText = rotationSteps([mail!], fullKeyId).join('\n');
    expect(mailText).toContain('`first.last@example.com`, key');
    expect(mailText).toContain('--user-name first.last@example.com');
  });
});
