/**
 * The demo account: a small, realistic account with one of everything the action judges. Dates are
 * relative to `now`, so the demo and the tests read the same whenever they run.
 */
import type { FakeAccount } from './aws.js';

const DAY = 86_400_000;

export function demoAccount(now = new Date()): FakeAccount {
  const ago = (days: number) => new Date(now.getTime() - days * DAY - 3_600_000).toISOString().replace('.000Z', 'Z');
  const used = (days: number, service: string, region: string) => ({ date: ago(days), service, region });
  return {
    accountId: '111111111111',
    alias: 'demo-prod',
    users: [
      // Stale: 213 days old and still in use.
      {
        name: 'alice',
        keys: [
          { id: 'AKIAIOSFODNN7ALICE01', status: 'Active', created: ago(213), lastUsed: used(1, 's3', 'us-east-1') },
        ],
        tags: [
          { key: 'owner', value: 'alice@example.com' },
          { key: 'team', value: 'web' },
        ],
      },
      // Fresh.
      {
        name: 'bob',
        keys: [
          { id: 'AKIAIOSFODNN7BOB0001', status: 'Active', created: ago(12), lastUsed: used(0, 'ec2', 'eu-west-1') },
        ],
      },
      // Due soon: 80 days old.
      {
        name: 'carol',
        keys: [
          {
            id: 'AKIAIOSFODNN7CAROL01',
            status: 'Active',
            created: ago(80),
            lastUsed: used(3, 'sts', 'ap-southeast-1'),
          },
        ],
      },
      // Stale: 120 days old and never used. No tags: no owner.
      { name: 'deploy-bot', keys: [{ id: 'AKIAIOSFODNN7DEPLOY1', status: 'Active', created: ago(120) }] },
      // Inactive and old: reported only with include-inactive.
      {
        name: 'erin',
        keys: [
          {
            id: 'AKIAIOSFODNN7ERIN001',
            status: 'Inactive',
            created: ago(300),
            lastUsed: used(250, 'iam', 'us-east-1'),
          },
        ],
      },
      // Two keys mid-rotation: the old one is stale, the new one fresh.
      {
        name: 'svc-payments',
        keys: [
          {
            id: 'AKIAIOSFODNN7PAYOLD1',
            status: 'Active',
            created: ago(400),
            lastUsed: used(0, 'dynamodb', 'us-west-2'),
          },
          { id: 'AKIAIOSFODNN7PAYNEW1', status: 'Active', created: ago(2), lastUsed: used(0, 'dynamodb', 'us-west-2') },
        ],
        // The key as someone typed it: IAM keeps its case.
        tags: [{ key: 'Owner', value: 'payments-team@example.com' }],
      },
      // No keys at all (console user).
      { name: 'frank', keys: [] },
    ],
    rootKeys: [{ active: true, created: ago(900), lastUsed: used(40, 's3', 'us-east-1') }],
  };
}

/** What the action should find in the demo account with the default inputs. */
export const DEMO_STALE_KEY_IDS = ['AKIAIOSFODNN7ALICE01', 'AKIAIOSFODNN7DEPLOY1', 'AKIAIOSFODNN7PAYOLD1'];
