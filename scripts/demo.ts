/**
 * `npm run demo`: the action's main job on an embedded demo account. Starts loopback fakes of STS,
 * IAM and the runner's OIDC endpoint, runs the built dist/index.js against them as a workflow
 * would, and prints the job summary, the outputs and the outcome.
 */
import { startFakeAws } from '../test/fakes/aws.js';
import { demoAccount } from '../test/fakes/demo-account.js';
import { startFakeOidc } from '../test/fakes/oidc.js';
import { fakeEndpoints, runActionWith, visibleLog } from '../test/helpers/action-process.js';

const aws = await startFakeAws({ account: demoAccount(), expectedAudience: 'sts.amazonaws.com' });
const oidc = await startFakeOidc();
try {
  const run = await runActionWith(process.execPath, {
    // No GitHub here: the demo shows the scan; `npm test` exercises the tracking issue.
    inputs: { 'role-to-assume': 'arn:aws:iam::111111111111:role/iam-stale-keys', 'max-age-days': '90', issue: 'false' },
    env: { ...fakeEndpoints({ aws, oidc }), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const rule = '─'.repeat(72);
  console.log(`${rule}\nJob log\n${rule}`);
  console.log(
    visibleLog(run)
      .split('\n')
      .filter((line) => !line.startsWith('::debug::') && line.trim() !== '')
      .join('\n'),
  );
  console.log(`${rule}\nJob summary (GITHUB_STEP_SUMMARY)\n${rule}\n${run.summary}`);
  console.log(`${rule}\nStep outputs\n${rule}`);
  for (const [name, value] of Object.entries(run.outputs)) {
    console.log(`${name}: ${name === 'stale-keys' ? JSON.stringify(JSON.parse(value), null, 2) : value}`);
  }
  const iam = aws.requests.filter((r) => r.service === 'iam');
  console.log(`${rule}\nIAM requests: ${iam.length} (${[...new Set(iam.map((r) => r.action))].join(', ')})`);
  console.log(
    `Exit code: ${run.exitCode}${run.exitCode === 1 ? ' (the job fails while stale keys exist, as it should)' : ''}`,
  );
} finally {
  await Promise.all([aws.close(), oidc.close()]);
}
