import { describe, expect, it, vi } from 'vitest';
import { chooseTagStrategy, readUserTags, tagRequestCosts } from '../../src/account/tags.js';
import type { IamApi } from '../../src/aws/iam.js';

describe('tagRequestCosts and chooseTagStrategy', () => {
  it.each([
    // users, flagged, ListUserTags, GetAccountAuthorizationDetails pages, chosen
    [20, 2, 2, 1, 'list-user-tags'],
    [10_000, 50, 50, 10, 'list-user-tags'],
    [10_000, 3_000, 3_000, 10, 'account-details'],
    [50_000, 20_000, 20_000, 50, 'account-details'],
    [500, 1, 1, 1, 'list-user-tags'],
    [900, 99, 99, 1, 'list-user-tags'],
    [900, 100, 100, 1, 'account-details'],
    [10_000, 99, 99, 10, 'list-user-tags'],
    [10_000, 100, 100, 10, 'account-details'],
    [10_001, 100, 100, 11, 'list-user-tags'],
  ] as const)('%i users, %i flagged: %i ListUserTags against %i pages, so %s', (users, flagged, lut, gaad, chosen) => {
    expect(tagRequestCosts(users, flagged)).toEqual({ listUserTags: lut, accountDetails: gaad });
    expect(chooseTagStrategy(users, flagged)).toBe(chosen);
  });

  it('costs nothing without flagged users, and never counts fewer users in the account than flagged', () => {
    expect(tagRequestCosts(10_000, 0)).toEqual({ listUserTags: 0, accountDetails: 0 });
    expect(chooseTagStrategy(10_000, 0)).toBe('list-user-tags');
    expect(tagRequestCosts(0, 1_500)).toEqual({ listUserTags: 1_500, accountDetails: 2 });
  });
});

describe('readUserTags', () => {
  function iamWith(tags: Record<string, Array<{ key: string; value: string }>>) {
    let running = 0;
    const peak = { value: 0 };
    const iam = {
      listUserTags: vi.fn(async (user: string) => {
        running += 1;
        peak.value = Math.max(peak.value, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running -= 1;
        return tags[user] ?? [];
      }),
      userDetailsWithTags: vi.fn(),
    } as unknown as IamApi;
    return { iam, peak };
  }

  it('makes no call when no user is flagged, or only the root user', async () => {
    const { iam } = iamWith({});
    expect(await readUserTags(iam, [], { accountUsers: 10 })).toEqual({ tags: new Map(), gap: null });
    expect(await readUserTags(iam, ['<root_account>'], { accountUsers: 10 })).toEqual({ tags: new Map(), gap: null });
    expect(iam.listUserTags).not.toHaveBeenCalled();
    expect(iam.userDetailsWithTags).not.toHaveBeenCalled();
  });

  it('keeps at most `concurrency` ListUserTags in flight, and gives the users in the order asked', async () => {
    const { iam, peak } = iamWith({ u3: [{ key: 'Owner', value: 'a@example.com' }] });
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    const read = await readUserTags(iam, users, { accountUsers: 30, strategy: 'list-user-tags', concurrency: 4 });
    expect(peak.value).toBe(4);
    expect([...read.tags.keys()]).toEqual(users);
    expect(read.tags.get('u3')).toEqual({ Owner: 'a@example.com' });
    expect(read.tags.get('u4')).toEqual({});
  });
});
