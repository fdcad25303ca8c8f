/**
 * Who is calling: the role a request's token grants, resolved once per request.
 *
 * Roles: `admin` (SKYCLAW_ADMIN_TOKEN, and the seed's SKYCLAW_TOKEN, which keeps granting every
 * role), `peer` (SKYCLAW_PEER_TOKEN: cluster membership), `join` (SKYCLAW_HOST_JOIN_TOKEN: may
 * register a new host), `submit` (a key of SKYCLAW_PUBLIC_API_KEYS), `host` (a per-host
 * credential from registration), `none`. With no secret configured at all every caller is admin:
 * a loopback coordinator stays open as in the seed.
 */
import { timingSafeEqual } from "node:crypto";
import type { AuthConfig, SubmitKey } from "../../config";
import { credentialHash, looksLikeHostCredential } from "./host-credentials";

export type Caller =
  | { role: "admin" }
  | { role: "peer" }
  | { role: "join" }
  | { role: "submit"; key: SubmitKey }
  | { role: "host"; hostId: string }
  /** `revokedHostId`: the token is the credential of a host that was revoked (the refusal says so). */
  | { role: "none"; revokedHostId?: string };

const sha256 = (value: string): NodeJS.TypedArray => Bun.SHA256.hash(value);

/** Digests of the configured secrets (a handful, fixed for the process's life). */
const secretDigests = new Map<string, NodeJS.TypedArray>();
function secretDigest(secret: string): NodeJS.TypedArray {
  let digest = secretDigests.get(secret);
  if (digest === undefined) secretDigests.set(secret, (digest = sha256(secret)));
  return digest;
}

export const OPEN_CALLER: Caller = { role: "admin" };

/** `ownerOf`: the host holding a credential (by its hash) and whether it was revoked, or null. */
export function resolveCaller(
  auth: AuthConfig,
  ownerOf: (credentialHash: string) => { id: string; revoked: boolean } | null,
  token: string | undefined,
): Caller {
  if (!auth.enabled) return OPEN_CALLER;
  if (token === undefined || token === "") return { role: "none" };
  // Every configured secret is compared (constant time each, on digests as tokenMatches does),
  // so timing tells nothing about which matched. The token is hashed once, each secret once per process.
  const tokenDigest = sha256(token);
  const matches = (secret: string | undefined) => secret !== undefined && timingSafeEqual(secretDigest(secret), tokenDigest);
  const admin = matches(auth.adminToken) || matches(auth.legacyToken);
  const peer = matches(auth.peerToken);
  const join = matches(auth.hostJoinToken);
  let submitKey: SubmitKey | undefined;
  for (const key of auth.submitKeys) if (matches(key.key)) submitKey = key;
  if (admin) return { role: "admin" };
  if (peer) return { role: "peer" };
  if (join) return { role: "join" };
  if (submitKey !== undefined) return { role: "submit", key: submitKey };
  if (looksLikeHostCredential(token)) {
    const host = ownerOf(credentialHash(token));
    if (host !== null) return host.revoked ? { role: "none", revokedHostId: host.id } : { role: "host", hostId: host.id };
  }
  return { role: "none" };
}
