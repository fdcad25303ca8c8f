/**
 * Reports finished jobs to the coordinator, many per request (`POST /v1/hosts/:id/complete`),
 * the way a Nomad client batches its allocation updates, but without a timer: a completion
 * that finds no request in flight is sent at once (no added latency on an idle host), and the
 * completions that finish while one is in flight wait for it and go together in the next
 * (up to LIMITS.completionsPerRequest). A host whose many slots end together then makes one
 * request, and the coordinator one commit, for many jobs.
 *
 * Each completion still ends as it would have on its own: accepted; refused (logged; a refusal
 * that means revocation also revokes the host); or, when the request failed without an answer
 * (no connection, timeout, 5xx), sent again in a later batch while this host's view of the
 * lease lasts, and dropped with a log line once it has run out.
 *
 * A batch may also claim the next jobs for the slots it frees (`claimSlots`): they come back in
 * the same answer and go to `onClaimed` before the batch's completions settle, so a busy host
 * spends one round trip per job instead of a completion and then a claim.
 */
import { LIMITS, type CompleteBody, type CompleteJobsResponse, type CompletionResult, type HostCompletion, type Job } from "../api";
import { ApiError } from "../client/http";
import { isRevocation } from "./revocation";

export interface CompletionReporterDeps {
  /**
   * One request with these completions, claiming up to `claimSlots` jobs with them; throws
   * ApiError for a refusal of the whole request.
   */
  send(completions: HostCompletion[], claimSlots: number): Promise<CompleteJobsResponse>;
  /** How many jobs to claim with a batch of `completions` completions (each frees a slot); none if absent. */
  claimSlots?(completions: number): number;
  /** Jobs leased to this host by a batch's claim: called before that batch's completions settle. */
  onClaimed?(jobs: Job[]): void;
  /** The coordinator said this host is revoked. */
  onRevoked(): void;
  log(line: string): void;
}

interface Pending {
  completion: HostCompletion;
  /** Local time after which a failed send is not retried; heartbeats move it, so it is read when needed. */
  leaseDeadline: () => number;
  settle: () => void;
}

/** Refusals of single completions are named after this route in their ApiError. */
const ROUTE = "/v1/hosts/:id/complete";

export class CompletionReporter {
  private queue: Pending[] = [];
  private sending = false;

  constructor(private readonly deps: CompletionReporterDeps) {}

  /** Resolves when the completion is settled (accepted, refused or given up on); never rejects. */
  report(completion: HostCompletion, leaseDeadline: () => number): Promise<void> {
    return new Promise((settle) => {
      this.queue.push({ completion, leaseDeadline, settle });
      if (!this.sending) void this.sendQueued();
    });
  }

  private async sendQueued(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, LIMITS.completionsPerRequest);
        const retry = await this.sendBatch(batch);
        // The retried ones are older than whatever queued meanwhile: they go first.
        this.queue = [...retry, ...this.queue];
      }
    } finally {
      this.sending = false;
    }
  }

  /** Sends one batch and settles what it can; returns the completions to send again. */
  private async sendBatch(batch: Pending[]): Promise<Pending[]> {
    let results: CompletionResult[];
    try {
      const response = await this.deps.send(
        batch.map((pending) => pending.completion),
        this.deps.claimSlots?.(batch.length) ?? 0,
      );
      results = response.results;
      if (response.jobs !== undefined && response.jobs.length > 0) this.deps.onClaimed?.(response.jobs);
    } catch (error) {
      if (error instanceof ApiError) {
        for (const pending of batch) this.refused(pending, error);
        return [];
      }
      const now = Date.now();
      const retry = batch.filter((pending) => now < pending.leaseDeadline());
      for (const pending of batch) {
        if (retry.includes(pending)) continue;
        const { jobId, attempt } = pending.completion;
        this.deps.log(`job ${jobId} (attempt ${attempt}): could not report before its lease ran out: ${describe(error)}`);
        pending.settle();
      }
      return retry;
    }
    batch.forEach((pending, index) => {
      const result = results?.[index];
      if (result?.jobId !== pending.completion.jobId) {
        const message = `the coordinator's answer holds no result for job ${pending.completion.jobId} at position ${index}`;
        this.refused(pending, new ApiError(502, { error: "invalid_response", message }, ROUTE));
      } else if (result.ok) pending.settle();
      else {
        // The field names the request's item (completions.3.attempt); the log reads as a single completion's.
        const field = result.error.field?.replace(/^completions\.\d+\./, "");
        this.refused(pending, new ApiError(result.status, { ...result.error, ...(field !== undefined && { field }) }, ROUTE));
      }
    });
    return [];
  }

  private refused(pending: Pending, error: ApiError): void {
    const { jobId, attempt } = pending.completion;
    this.deps.log(`job ${jobId} (attempt ${attempt}): completion refused: ${error.message}`);
    if (isRevocation(error)) this.deps.onRevoked();
    pending.settle();
  }
}

/** The two ways of reporting completions a coordinator may offer. */
export interface CompletionClient {
  completeJobs(hostId: string, completions: HostCompletion[], claimSlots?: number): Promise<CompleteJobsResponse>;
  complete(jobId: string, body: CompleteBody): Promise<Job>;
}

/**
 * The reporter's `send`: the batch route, or, from a coordinator older than it (which answers
 * 404 "no route"), one POST /v1/jobs/:id/complete per completion, from then on. A coordinator
 * that predates `claimSlots` refuses the field (400 naming it): the batch goes again without it,
 * and no later one asks (the claim loop takes the freed slots). Hosts may then be upgraded
 * before their coordinators.
 */
export function completionSender(
  client: CompletionClient,
  hostId: () => string,
): (completions: HostCompletion[], claimSlots?: number) => Promise<CompleteJobsResponse> {
  let batchRoute = true;
  let claimWithBatch = true;
  const singly = async (completions: HostCompletion[]): Promise<CompleteJobsResponse> => ({
    results: await Promise.all(
      completions.map(({ jobId, attempt, status, result }) =>
        client.complete(jobId, { hostId: hostId(), attempt, status, result }).then(
          (job): CompletionResult => ({ jobId, ok: true, state: job.state }),
          (error: unknown): CompletionResult => {
            if (error instanceof ApiError) return { jobId, ok: false, status: error.status, error: error.body };
            throw error;
          },
        ),
      ),
    ),
  });
  const batch = async (completions: HostCompletion[], claimSlots: number): Promise<CompleteJobsResponse> => {
    if (claimSlots === 0 || !claimWithBatch) return client.completeJobs(hostId(), completions);
    try {
      return await client.completeJobs(hostId(), completions, claimSlots);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 400 && error.body.field === "claimSlots")) throw error;
      claimWithBatch = false;
      return client.completeJobs(hostId(), completions);
    }
  };
  return async (completions, claimSlots = 0) => {
    if (!batchRoute) return singly(completions);
    try {
      return await batch(completions, claimSlots);
    } catch (error) {
      // Only a missing route answers 404 here: the batch route refuses unknown jobs item by item.
      if (!(error instanceof ApiError && error.status === 404 && error.body.error === "not_found" && error.body.field === undefined)) throw error;
      batchRoute = false;
      return singly(completions);
    }
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
