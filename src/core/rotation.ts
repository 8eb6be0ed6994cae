/** Interim: replaced by the tracking-issue work's version on merge. */
import type { Finding } from '../model.js';
import type { KeyIdStyle } from './present.js';

export function rotationSteps(stale: readonly Finding[], keyId: KeyIdStyle): string[] {
  void keyId;
  return stale.length > 0 ? ['### Rotate each key', '', 'See the tracking issue.'] : [];
}
