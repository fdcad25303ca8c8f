/**
 * Registration with a per-host credential. A host re-registering with its own credential keeps
 * it; any other registration (join token, admin, an open coordinator) gets a new one, whose hash
 * is computed here, before proposing, so every replica stores the same hash and the secret never
 * enters the log.
 *
 * A retried registration (same idempotency key) is answered from its record, which cannot hold
 * the secret. So when the stored hash is not the one just computed, the retry's new credential
 * replaces it, but only while the host has not been heard from since the first answer (an
 * answer lost on the way, the reason for the retry) or for an admin: a replay cannot take over a
 * host that is running.
 */
import type { Host, RegisterHostResponse } from "../../api";
import type { RegisterHostCommand } from "../../state/commands";
import { hostCredentialHashOf } from "../../state/ownership";
import { getHost } from "../../state/queries";
import { HttpError } from "../http-errors";
import type { CoordinatorNode } from "../node";
import type { Caller } from "./caller";
import { credentialHash, newHostCredential } from "./host-credentials";

export type RegisterProposal = Omit<RegisterHostCommand, "at" | "credentialHash">;

export async function registerHostWithCredential(
  node: CoordinatorNode,
  caller: Caller,
  proposal: RegisterProposal,
): Promise<Pick<RegisterHostResponse, "host" | "credential">> {
  if (caller.role === "host") return { host: await node.submit<Host>(proposal) };
  const credential = newHostCredential();
  const hash = credentialHash(credential);
  const host = await node.submit<Host>({ ...proposal, credentialHash: hash });
  if (hostCredentialHashOf(node.db, host.id) === hash) return { host, credential };
  const current = getHost(node.db, host.id);
  if (caller.role !== "admin" && current !== null && current.lastHeartbeatAt > host.lastHeartbeatAt) {
    throw new HttpError(409, {
      error: "already_registered",
      message: `this registration (its idempotency key) was answered and host "${host.id}" has been active since; its credential is shown only once`,
    });
  }
  const { idempotency: _replayed, ...again } = proposal;
  const rotated = await node.submit<Host>({ ...again, hostId: host.id, credentialHash: hash });
  return { host: rotated, credential };
}
