/** What every reporter receives: the run's predicate and, when there is one, its envelope and signature status. */
import type { DsseEnvelope, EvidencePredicate } from '../evidence/types.js';

/**
 * `valid`: verified with the given public key. `invalid`: a key was given and
 * the signature does not verify. `unsigned`: the envelope carries no signature.
 * `unverified`: signed, but no public key was given to check it.
 */
export type SignatureStatus = 'valid' | 'invalid' | 'unsigned' | 'unverified';

export interface SignatureInfo {
  status: SignatureStatus;
  keyid?: string;
  /** Why the signature is not valid, in one sentence (from verifyEnvelope). */
  reason?: string;
}

export interface ReportInput {
  predicate: EvidencePredicate;
  envelope?: DsseEnvelope;
  signature?: SignatureInfo;
  /** SARIF `automationDetails.id` (the code-scanning category); default: checklist + target host. */
  sarifCategory?: string;
}

export type Reporter = (input: ReportInput) => string;
