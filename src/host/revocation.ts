/**
 * Telling a revoked host from one the coordinator merely forgot. Revocation is final: the
 * coordinator has requeued the host's jobs and will refuse its id for good, so the daemon stops
 * and exits instead of retrying. Everything else (404 unknown host, an unknown credential after
 * the coordinator lost its state, 5xx, no connection) stays retryable.
 *
 * The coordinator names a revocation two ways: with scoped secrets the revoked credential gets
 * 401 `host_revoked`; with a shared token the state machine refuses the revoked id with 409
 * `host_not_active` (used for nothing else).
 */
import { ApiError } from "../client/http";

/** Exit code of `skyclaw host` when the coordinator revoked it, so a supervisor need not restart it. */
export const EXIT_HOST_REVOKED = 3;

export function isRevocation(error: unknown): error is ApiError {
  if (!(error instanceof ApiError)) return false;
  return (error.status === 401 && error.body.error === "host_revoked") || (error.status === 409 && error.body.error === "host_not_active");
}

/** A plain 401: the coordinator does not know the credential sent (a fresh state, or a wrong token). */
export function isUnknownCredential(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401 && error.body.error === "unauthorized";
}

export function revokedLine(hostId: string): string {
  return `skyclaw host: host ${hostId} was revoked by the coordinator; exiting`;
}

/** Registration refused because the id was revoked: the daemon cannot start as this host. */
export class HostRevokedError extends Error {
  constructor(
    readonly hostId: string,
    identityFile: string,
  ) {
    super(`host ${hostId} was revoked by the coordinator; delete ${identityFile} to register this machine as a new host`);
    this.name = "HostRevokedError";
  }
}
