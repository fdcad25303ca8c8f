/**
 * Per-host credentials: random, shown once (in the registration response), stored only as a
 * sha256 hash in the replicated state. The secret has 256 random bits, so a fast hash is enough
 * (no password stretching needed), and a request's credential is found by its hash in one lookup.
 */
const CREDENTIAL_PREFIX = "skyclaw-host-";

export function newHostCredential(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return CREDENTIAL_PREFIX + Buffer.from(bytes).toString("base64url");
}

export function credentialHash(credential: string): string {
  return Bun.SHA256.hash(credential, "hex");
}

/** Only strings shaped like a credential are looked up: other tokens cost no query. */
export function looksLikeHostCredential(token: string): boolean {
  return token.startsWith(CREDENTIAL_PREFIX) && token.length === CREDENTIAL_PREFIX.length + 43;
}
