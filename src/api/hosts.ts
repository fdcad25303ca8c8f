/** Request and response schemas of the host routes (`/v1/hosts…`). */
import { t, type Static } from "elysia";
import { Attempt, Capability, ErrorBody, Id, JsonInteger, LIMITS, strict } from "./common";
import { CompletionStatus, Job, JobResult, JobState } from "./jobs";

export const HOST_STATES = ["active", "draining", "lost"] as const;
export type HostState = (typeof HOST_STATES)[number];

export const RegisterHostBody = t.Object(
  {
    /** A host that kept its id from an earlier run re-registers as the same host. */
    hostId: t.Optional(Id),
    name: t.String({ minLength: 1, maxLength: 200 }),
    capabilities: t.Array(Capability, { maxItems: LIMITS.requirements }),
    slots: JsonInteger({ minimum: 1, maximum: 1_024 }),
    version: t.String({ minLength: 1, maxLength: 64 }),
  },
  strict,
);
export type RegisterHostBody = Static<typeof RegisterHostBody>;

export const Host = t.Object({
  id: t.String(),
  name: t.String(),
  capabilities: t.Array(t.String()),
  slots: JsonInteger(),
  version: t.String(),
  state: t.Union(HOST_STATES.map((state) => t.Literal(state))),
  registeredAt: JsonInteger(),
  lastHeartbeatAt: JsonInteger(),
  runningJobs: JsonInteger(),
  /** Optional for clients of coordinators older than this field. */
  revokedAt: t.Optional(
    t.Union([JsonInteger(), t.Null()], { description: "when `skyclaw hosts revoke` ended its credential (its state is then lost); null if never" }),
  ),
});
export type Host = Static<typeof Host>;

export const RegisterHostResponse = t.Object({
  host: Host,
  leaseMs: JsonInteger(),
  heartbeatMs: JsonInteger(),
  claimWaitMs: JsonInteger(),
  /** This host's own secret for every later call, shown only here: keep it (host.json, mode 0600). */
  credential: t.Optional(t.String()),
});
export type RegisterHostResponse = Static<typeof RegisterHostResponse>;

export const LeaseRef = t.Object({ jobId: Id, attempt: Attempt }, strict);
export type LeaseRef = Static<typeof LeaseRef>;

export const HeartbeatBody = t.Object(
  { running: t.Optional(t.Array(LeaseRef, { maxItems: 1_024 })) },
  strict,
);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

export const HeartbeatResponse = t.Object({
  host: Host,
  /** Leases renewed by this heartbeat, with their new expiry. */
  renewed: t.Array(t.Object({ jobId: t.String(), attempt: JsonInteger(), leaseExpiresAt: JsonInteger() })),
  /** Jobs whose submitter asked to cancel them: stop them and complete with status "cancelled". */
  cancel: t.Array(LeaseRef),
  /** Leases this host no longer holds (expired, or given to another attempt): stop those jobs. */
  lost: t.Array(LeaseRef),
  /** True when the host was asked to drain: stop claiming, finish running jobs, exit. */
  drain: t.Boolean(),
});
export type HeartbeatResponse = Static<typeof HeartbeatResponse>;

export const ClaimBody = t.Object(
  {
    /** Free slots on the host: the most jobs this claim may return. */
    slots: JsonInteger({ minimum: 1, maximum: 1_024 }),
    /** Long-poll: wait up to this long for a matching job (capped by the coordinator). */
    waitMs: t.Optional(JsonInteger({ minimum: 0, maximum: 300_000 })),
  },
  strict,
);
export type ClaimBody = Static<typeof ClaimBody>;

export const ClaimResponse = t.Object({ jobs: t.Array(Job) });
export type ClaimResponse = Static<typeof ClaimResponse>;

/**
 * `POST /v1/hosts/:id/complete`: jobs of this host that finished, reported together (a host with
 * many slots coalesces the completions that pile up while a report is in flight). Each is
 * fenced by its own attempt, exactly as `POST /v1/jobs/:id/complete`, and answered on its own.
 */
export const HostCompletion = t.Object({ jobId: Id, attempt: Attempt, status: CompletionStatus, result: JobResult }, strict);
export type HostCompletion = Static<typeof HostCompletion>;
export const CompleteJobsBody = t.Object(
  {
    completions: t.Array(HostCompletion, { minItems: 1, maxItems: LIMITS.completionsPerRequest }),
    /**
     * Also claim up to this many jobs, for the slots these completions free: the next jobs come
     * back in this answer (`jobs`) and commit with the completions, so a busy host takes one
     * round trip per job instead of two (as a BullMQ worker fetches its next job when it
     * completes one). Never waits: an empty queue answers `jobs: []` at once.
     */
    claimSlots: t.Optional(JsonInteger({ minimum: 0, maximum: 1_024 })),
  },
  strict,
);
export type CompleteJobsBody = Static<typeof CompleteJobsBody>;
export const CompletionResult = t.Union([
  /** `state`: where the job went (succeeded, failed, cancelled; queued when a failure is retried). */
  t.Object({ jobId: t.String(), ok: t.Literal(true), state: JobState }),
  /** Refused as `POST /v1/jobs/:id/complete` would have been: `status` is that route's HTTP status. */
  t.Object({ jobId: t.String(), ok: t.Literal(false), status: JsonInteger(), error: ErrorBody }),
]);
export type CompletionResult = Static<typeof CompletionResult>;
export const CompleteJobsResponse = t.Object({
  results: t.Array(CompletionResult, { description: "one per completion, in order" }),
  /** With `claimSlots`: the jobs now leased to this host, as `POST /v1/hosts/:id/claim` answers them. */
  jobs: t.Optional(t.Array(Job)),
});
export type CompleteJobsResponse = Static<typeof CompleteJobsResponse>;

/** `POST /v1/hosts/:id/revoke`: the host's credential is void and its jobs went back to the queue. */
export const RevokeHostResponse = t.Object({
  host: Host,
  /** Jobs it held, queued again at once. */
  requeued: t.Array(t.String()),
  /** Jobs it held whose cancel was pending: cancelled. */
  cancelled: t.Array(t.String()),
});
export type RevokeHostResponse = Static<typeof RevokeHostResponse>;

export const HostList = t.Object({ hosts: t.Array(Host) });
export type HostList = Static<typeof HostList>;
