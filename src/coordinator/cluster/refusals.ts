/**
 * How consensus refusals reach a client: no leader, a lost leadership, an uncommitted write are
 * 503 with `retry-after` and the leader this node knows of, so the client retries (with the same
 * idempotency key) elsewhere; a refused membership change is a 409.
 */
import type { NoLeaderBody } from "../../api";
import { RaftRefusal } from "../../raft/driver/raft-proposer";
import { HttpError } from "../http-errors";

export const RETRY_AFTER_SECONDS = 1;

export class NoLeaderError extends HttpError {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(error: string, message: string, leader: string | null) {
    const body: NoLeaderBody = { error, message, leader };
    super(503, body);
  }
}

export function noLeader(leader: string | null = null, message?: string): NoLeaderError {
  return new NoLeaderError(
    "no_leader",
    message ?? "the coordinator cluster has no leader right now (an election is under way, or too few coordinators are up); retry shortly",
    leader,
  );
}

/** A refusal from the Raft driver as the HttpError the routes throw; anything else unchanged. */
export function toHttpError(error: unknown): unknown {
  if (!(error instanceof RaftRefusal)) return error;
  switch (error.reason) {
    case "notLeader":
    case "transferring":
    case "closed":
      return noLeader(error.leader, error.message);
    case "overwritten":
    case "timeout":
      return new NoLeaderError("not_committed", error.message, error.leader);
    case "configChangePending":
      return new HttpError(409, { error: "change_pending", message: error.message });
    case "invalidChange":
      return new HttpError(409, { error: "invalid_change", message: error.message });
  }
}
