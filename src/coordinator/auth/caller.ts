/**
 * Who is calling: the role a request's token grants, resolved once per request.
 *
 * Roles: `admin` (SKYCLAW_ADMIN_TOKEN, and the seed's SKYCLAW_TOKEN, which keeps granting every
 * role), `peer` (SKYCLAW_PEER_TOKEN: cluster membership), `join` (SKYCLAW_HOST_JOIN_TOKEN: may
 * register a new host), `submit` (a key of SKYCLAW_PUBLIC_API_KEYS), `host` (a per-host
 * credential from registration), `none`. With no secret configured at all every caller is admin:
 * a loopback coordinator stays open as in the seed.
 */
import type { Database } from "bun:sqlite";
import type { AuthConfig, SubmitKey } from "../../config";
import { hostIdByCredentialHash } from "../../state/ownership";
import { tokenMatches } from "../auth";
import { credentialHash, looksLikeHostCredential } from "./host-credentials";

export type Caller =
  | { role: "admin" }
  | { role: "peer" }
  | { role: "join" }
  | { role: "submit"; key: SubmitKey }
  | { role: "host"; hostId: string }
  | { role: "none" };

export const OPEN_CALLER: Caller = { role: "admin" };

export function resolveCaller(auth: AuthConfig, db: Database, token: string | undefined): Caller {
  if (!auth.enabled) return OPEN_CALLER;
  if (token === undefined || token === "") return { role: "none" };
  // Every configured secret is compared (constant time each), so timing tells nothing about which matched.
  const matches = (secret: string | undefined) => secret !== undefined && tokenMatches(secret, token);
  const admin = matches(auth.adminToken) || matches(auth.legacyToken);
  const peer = matches(auth.peerToken);
  const join = matches(auth.hostJoinToken);
  let submitKey: SubmitKey | undefined;
  for (const key of auth.submitKeys) if (tokenMatches(key.key, token)) submitKey = key;
  if (admin) return { role: "admin" };
  if (peer) return { role: "peer" };
  if (join) return { role: "join" };
  if (submitKey !== undefined) return { role: "submit", key: submitKey };
  if (looksLikeHostCredential(token)) {
    const hostId = hostIdByCredentialHash(db, credentialHash(token));
    if (hostId !== null) return { role: "host", hostId };
  }
  return { role: "none" };
}
