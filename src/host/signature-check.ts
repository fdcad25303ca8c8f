/**
 * A host with SKYCLAW_TRUSTED_KEYS runs only jobs its submitters signed: the signature must be
 * by a trusted key and must verify over the job exactly as this host received it, so a job
 * changed on the way (by a coordinator, or in its database) is refused before anything runs.
 * Without trusted keys every job passes, as before signing existed.
 */
import type { Job } from "../api";
import { normalizePublicKey } from "../signing/ed25519-keys";
import { signedFieldsOfJob, verifyJobSignature } from "../signing/signed-job";

export const SIGNATURE_REJECTED = "signature_rejected";

/** Why the job must not run, or null when it may. */
export function signatureRejection(job: Job, trustedKeys: readonly string[]): string | null {
  if (trustedKeys.length === 0) return null;
  const { signature } = job;
  if (signature === undefined) return "the job is unsigned; this host runs only jobs signed by a key in its SKYCLAW_TRUSTED_KEYS";
  const signer = normalizePublicKey(signature.publicKey);
  if (signer === null || !trustedKeys.includes(signer)) {
    return `the job is signed by an unknown key (${signature.publicKey.slice(0, 60)}), not one in this host's SKYCLAW_TRUSTED_KEYS`;
  }
  if (!verifyJobSignature(signature, signedFieldsOfJob(job))) {
    return "bad signature: the job is not what its submitter signed (it was changed after signing, or the signature is for another job)";
  }
  return null;
}
