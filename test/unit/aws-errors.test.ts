/** src/aws/errors.ts on errors shaped as the SDK throws them (its own exception class) and as Node does. */
import { IAMServiceException } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  CutAnswerError,
  describeAwsFailure,
  isAccessDenied,
  isExpiredSession,
  isTransient,
} from '../../src/aws/errors.js';

function sdkError(name: string, message: string, status: number, attempts = 1): IAMServiceException {
  return new IAMServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts },
  });
}

/** What Node raises for a connection that failed (no HTTP answer, so no `$metadata`). */
function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransient', () => {
  it.each([
    ['Throttling', sdkError('Throttling', 'Rate exceeded', 400)],
    ['ThrottlingException', sdkError('ThrottlingException', 'Rate exceeded', 400)],
    ['HTTP 429', sdkError('TooManyRequestsException', 'slow down', 429)],
    ['ServiceFailure', sdkError('ServiceFailure', 'unknown error', 500)],
    ['HTTP 503', sdkError('ServiceUnavailable', 'unable to handle request', 503)],
    ['a 200 the SDK could not parse', sdkError('Error', 'XML parse error', 200)],
    ['a cut answer', new CutAnswerError("IAM's GetCredentialReport answer was cut off")],
    ['the SDK time-out', Object.assign(new Error('request timed out'), { name: 'TimeoutError' })],
    ['ECONNRESET by code only', networkError('ECONNRESET', 'aborted')],
    ['socket hang up', networkError('ECONNRESET', 'socket hang up')],
    ['a DNS hiccup', networkError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN iam.amazonaws.com')],
    ['undici connect time-out', networkError('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error')],
  ])('retries %s', (_what, err) => {
    expect(isTransient(err)).toBe(true);
  });

  it.each([
    [
      'an expired session (403)',
      sdkError('ExpiredToken', 'The security token included in the request is expired', 403),
    ],
    ['an expired session (400, STS)', sdkError('ExpiredTokenException', 'Token expired', 400)],
    ['AccessDenied', sdkError('AccessDenied', 'not authorized', 403)],
    ['NoSuchEntity', sdkError('NoSuchEntityException', 'cannot be found', 404)],
    ['ValidationError', sdkError('ValidationError', 'bad marker', 400)],
    ['an abort', Object.assign(new Error('Request aborted'), { name: 'AbortError' })],
    ['an unknown host', networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND iam.example')],
  ])('does not retry %s', (_what, err) => {
    expect(isTransient(err)).toBe(false);
  });
});

describe('isExpiredSession and isAccessDenied', () => {
  it('tells an expired session from a denial, though both can be HTTP 403', () => {
    const expired = sdkError('ExpiredToken', 'The security token included in the request is expired', 403);
    const denied = sdkError('AccessDenied', 'User: x is not authorized to perform: iam:ListAccessKeys', 403);
    expect([isExpiredSession(expired), isAccessDenied(expired)]).toEqual([true, false]);
    expect([isExpiredSession(denied), isAccessDenied(denied)]).toEqual([false, true]);
    expect(isExpiredSession(sdkError('ExpiredTokenException', 'Token expired', 400))).toBe(true);
  });
});

describe('describeAwsFailure', () => {
  const expired = sdkError('ExpiredToken', 'The security token included in the request is expired', 403);

  it('names the step and says to raise role-duration-seconds on an expired session', () => {
    expect(describeAwsFailure(expired, 'listing the keys of user alice', { roleDurationSeconds: 3600 })).toBe(
      'Listing the keys of user alice failed: the AWS session expired before the scan finished (ExpiredToken: The security token included in the request is expired). ' +
        "Raise role-duration-seconds (now 3600 s; up to the role's maximum session duration, which may need raising too), or scan fewer users per run.",
    );
    expect(describeAwsFailure(expired, 'fetching the credential report')).toContain(
      'Raise role-duration-seconds (now the default, 900 s;',
    );
  });

  it('talks about the earlier step when the credentials came from the environment', () => {
    expect(describeAwsFailure(expired, 'fetching the credential report', { roleDurationSeconds: null })).toMatch(
      /^Fetching the credential report failed: the AWS session expired .*The credentials from the environment expired: have the earlier step that sets them make them last longer/,
    );
  });

  it('says what AWS said and what to do for each kind of failure', () => {
    expect(
      describeAwsFailure(
        sdkError('AccessDenied', 'User: r is not authorized to perform: iam:GetCredentialReport', 403),
        'fetching the credential report',
      ),
    ).toBe(
      "Fetching the credential report failed: access denied (AccessDenied: User: r is not authorized to perform: iam:GetCredentialReport). Allow the action it names in the role's policy.",
    );
    expect(describeAwsFailure(sdkError('Throttling', 'Rate exceeded', 400, 10), 'listing the users')).toBe(
      'Listing the users failed: AWS kept throttling the requests after 10 tries (Throttling: Rate exceeded). Other tools may be calling IAM in this account at the same time: run again later.',
    );
    expect(describeAwsFailure(sdkError('ServiceFailure', 'unknown error', 500, 10), 'listing the users')).toBe(
      'Listing the users failed: AWS failed after 10 tries (ServiceFailure: unknown error). Run again later.',
    );
    expect(
      describeAwsFailure(networkError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'), 'listing the users'),
    ).toMatch(
      /^Listing the users failed: no answer from AWS \(Error: connect ECONNREFUSED 10\.0\.0\.1:443\)\. Check that the runner can reach AWS/,
    );
    expect(describeAwsFailure(sdkError('ValidationError', 'Invalid Marker', 400), 'listing the users')).toBe(
      'Listing the users failed: ValidationError: Invalid Marker.',
    );
  });

  it("leaves out the SDK's advice to inspect hidden fields", () => {
    const err = sdkError(
      'Error',
      'XML parse error\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.',
      200,
      3,
    );
    const text = describeAwsFailure(err, 'listing the users');
    expect(text).toBe(
      'Listing the users failed: the answer from AWS could not be read after 3 tries (Error: XML parse error). Run the job again; if it repeats, a proxy may be changing the answers.',
    );
  });
});
