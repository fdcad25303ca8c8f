/**
 * The host daemon: registers this machine with the coordinators, heartbeats (which renews the
 * leases of the jobs it runs), long-polls for jobs while it has free slots, runs each in its
 * own slot (see job-runner.ts) and reports how it ended (batched with the other jobs that
 * finish meanwhile, see completion-reporter.ts); the report claims the next jobs for the slots
 * it frees, so a busy host gets its next job in the same round trip.
 *
 * Leases: the host keeps its own view of each lease, renewed from the time a successful
 * heartbeat was *sent*, and shortened so that a job is dead before the coordinator's lease
 * ends (see stopWithinMs). When that view runs out (heartbeats kept failing) it kills the job
 * and reports nothing; the coordinator requeues the job when its own lease runs out, later.
 *
 * Stopping: `drain` stops claiming and lets running jobs finish and report; `shutdownNow` stops
 * them (process group SIGTERM, SIGKILL after the grace period) and reports them as cancelled.
 * A drain asked for remotely (`skyclaw hosts drain`) arrives in a heartbeat response.
 *
 * Revocation (`skyclaw hosts revoke`, see revocation.ts) is final: the coordinator has already
 * requeued this host's jobs, so the daemon stops them without reporting and stops as "revoked".
 */
import { mkdirSync } from "node:fs";
import type { Job, RegisterHostResponse } from "../api";
import { ApiError } from "../client/http";
import { SkyclawClient } from "../client/skyclaw-client";
import type { HostConfig } from "../config";
import { VERSION } from "../version";
import { Allowlist } from "./allowlist";
import { detectCapabilities } from "./capabilities";
import { CompletionReporter, completionSender } from "./completion-reporter";
import { identityPath, loadIdentity, saveIdentity } from "./identity";
import type { CommandContext } from "./job-command";
import { JobRun, type JobOutcome } from "./job-runner";
import { HostRevokedError, isRevocation, isUnknownCredential, revokedLine } from "./revocation";

export interface HostDaemonOptions {
  /** One human-readable line per event; default console.error. */
  log?: (line: string) => void;
}

export interface RunningHost {
  hostId: string;
  /** Stop claiming, let running jobs finish and report them, then resolve. (SIGTERM) */
  drain(): Promise<HostStopCause>;
  /** Stop running jobs now (SIGTERM to each job's process group, SIGKILL after config.killGraceMs), report them as cancelled, then resolve. (second SIGTERM / SIGINT) */
  shutdownNow(): Promise<HostStopCause>;
  /**
   * Resolves when the daemon has stopped: "revoked" when the coordinator revoked this host, else
   * "stopped" (drain, shutdownNow, or a remote drain seen in a heartbeat response).
   */
  stopped: Promise<HostStopCause>;
}

export type HostStopCause = "stopped" | "revoked";

export async function startHost(config: HostConfig, options: HostDaemonOptions = {}): Promise<RunningHost> {
  const daemon = new HostDaemon(config, options.log ?? ((line) => console.error(line)));
  await daemon.start();
  return {
    hostId: daemon.hostId,
    drain: () => daemon.drain(),
    shutdownNow: () => daemon.shutdownNow(),
    stopped: daemon.stopped,
  };
}

interface Slot {
  run: JobRun;
  leaseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Local time at which this host's view of the lease runs out. */
  leaseDeadline: number;
  /** The run is over and its completion is being sent. */
  reporting: boolean;
}

const MAX_CLAIM_BACKOFF_MS = 5_000;

class HostDaemon {
  hostId = "";
  readonly stopped: Promise<HostStopCause>;
  private resolveStopped!: (cause: HostStopCause) => void;
  private revoked = false;
  private state: "running" | "draining" | "stopping" | "stopped" = "running";
  private readonly slots = new Map<string, Slot>();
  private timings = { leaseMs: 0, heartbeatMs: 0, claimWaitMs: 0 };
  private capabilities: string[] = [];
  private context!: CommandContext;
  /** Claims, completions, registration: the default retry budget. */
  private readonly client: SkyclawClient;
  /** Heartbeats and drain notices: one try per coordinator; the next tick is the retry. */
  private readonly quickClient: SkyclawClient;
  /** Output: retried for about a lease, then the batch is dropped. */
  private outputClient!: SkyclawClient;
  /** Completions, many per request (see completion-reporter.ts). */
  private readonly completions: CompletionReporter;
  private readonly claimAbort = new AbortController();
  private claimLoopDone = false;
  private wakeClaimLoop: (() => void) | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatInFlight: Promise<void> | undefined;
  private failedHeartbeats = 0;
  private registering: Promise<void> | undefined;
  /** This host's own credential from registration; before it has one, SKYCLAW_TOKEN (the join token) is sent. */
  private credential: string | undefined;

  constructor(
    private readonly config: HostConfig,
    private readonly log: (line: string) => void,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    const onFailover = (from: string, reason: string) => this.log(`skyclaw host: coordinator ${from} failed (${reason}); trying the next`);
    const token = () => this.credential;
    this.client = new SkyclawClient(config.client, { onFailover, token });
    this.quickClient = new SkyclawClient(config.client, { retryBudgetMs: 0, token });
    this.completions = new CompletionReporter({
      send: completionSender(this.client, () => this.hostId),
      // Each reported job frees a slot: its next job comes back with the report, while the host runs.
      claimSlots: (completions) => (this.state === "running" ? completions : 0),
      onClaimed: (jobs) => {
        const claimedAt = Date.now();
        for (const job of jobs) this.launch(job, claimedAt);
      },
      onRevoked: () => this.revokedByCoordinator(),
      log: this.log,
    });
  }

  async start(): Promise<void> {
    mkdirSync(this.config.stateDir, { recursive: true, mode: 0o700 });
    const allowlist = Allowlist.fromConfig(this.config.allowedCommands, this.config.jobPath);
    for (const entry of allowlist.unresolved) this.log(`skyclaw host: SKYCLAW_ALLOWED_COMMANDS entry "${entry}" is not an executable on this host; ignored`);
    this.log(`skyclaw host: ${allowlist.describe()}`);
    const detected = await detectCapabilities(this.config, this.log);
    this.capabilities = detected.capabilities;
    this.context = { config: this.config, allowlist, openclawExecutable: detected.openclawExecutable };

    const stored = loadIdentity(this.config.stateDir);
    this.credential = stored?.credential;
    try {
      await this.register(stored?.hostId);
    } catch (error) {
      if (error instanceof HostRevokedError) this.log(revokedLine(error.hostId));
      throw error;
    }
    this.outputClient = new SkyclawClient(this.config.client, { retryBudgetMs: this.timings.leaseMs, token: () => this.credential });
    this.log(
      `skyclaw host: registered as ${this.hostId} ("${this.config.name}", capabilities ${this.capabilities.join(",") || "none"}, ${this.config.maxParallel} slot(s)) at ${this.client.http.currentUrl}`,
    );
    this.scheduleHeartbeat();
    void this.claimLoop();
  }

  drain(): Promise<HostStopCause> {
    if (this.state === "running") {
      this.state = "draining";
      this.log(`skyclaw host: draining: no new jobs; waiting for ${this.slots.size} running job(s)`);
      // Tell the coordinator first so it hands this host nothing more, then end the claim.
      void this.quickClient
        .drainHost(this.hostId)
        .catch(() => {})
        .finally(() => this.stopClaiming());
    }
    this.stopIfIdle();
    return this.stopped;
  }

  shutdownNow(): Promise<HostStopCause> {
    if (this.state === "running" || this.state === "draining") {
      this.state = "stopping";
      this.log(`skyclaw host: shutting down: stopping ${this.slots.size} running job(s)`);
      this.stopClaiming();
      for (const slot of this.slots.values()) if (!slot.reporting) slot.run.stop("host_shutdown");
    }
    this.stopIfIdle();
    return this.stopped;
  }

  // --- registration -----------------------------------------------------------------------

  /**
   * Registers with this host's credential when it has one (it keeps it), else with SKYCLAW_TOKEN
   * (the join token), which returns a new credential that is saved in host.json at once. A
   * credential the coordinator no longer knows (a fresh database) falls back to the join token.
   * A revoked id throws HostRevokedError.
   */
  private async register(hostId: string | undefined): Promise<void> {
    const hadCredential = this.credential !== undefined;
    let response: RegisterHostResponse;
    try {
      if (this.credential === undefined) response = await this.registerWithToken(hostId);
      else {
        try {
          response = await this.client.register(this.registration(hostId));
        } catch (error) {
          if (!isUnknownCredential(error)) throw error;
          this.log("skyclaw host: the coordinator does not know this host's credential; registering with SKYCLAW_TOKEN");
          this.credential = undefined;
          response = await this.registerWithToken(hostId);
        }
      }
    } catch (error) {
      if (isRevocation(error)) throw new HostRevokedError(hostId ?? this.hostId, identityPath(this.config.stateDir));
      throw error;
    }
    this.hostId = response.host.id;
    if (response.credential !== undefined) this.credential = response.credential;
    if (response.credential !== undefined || hostId !== this.hostId) {
      saveIdentity(this.config.stateDir, { hostId: this.hostId, ...(this.credential !== undefined && { credential: this.credential }) });
    }
    if (hostId !== undefined && !hadCredential && response.credential !== undefined) {
      const as = this.hostId === hostId ? `again as ${hostId}` : `as new host ${this.hostId} (${hostId} was not its to keep)`;
      this.log(`skyclaw host: ${identityPath(this.config.stateDir)} held no credential: registered ${as} with SKYCLAW_TOKEN and saved the new credential there`);
    }
    this.timings = { leaseMs: response.leaseMs, heartbeatMs: response.heartbeatMs, claimWaitMs: response.claimWaitMs };
  }

  private registration(hostId: string | undefined) {
    return {
      ...(hostId !== undefined && { hostId }),
      name: this.config.name,
      capabilities: this.capabilities,
      slots: this.config.maxParallel,
      version: VERSION,
    };
  }

  /**
   * Registers with SKYCLAW_TOKEN, under `hostId` if the coordinator lets it. The join token may
   * not take over an id the coordinator knows (it could be another machine's): a host without a
   * credential for its id (a host.json from before per-host credentials, or a credential the
   * coordinator lost while keeping the id) then registers as a new host.
   */
  private async registerWithToken(hostId: string | undefined): Promise<RegisterHostResponse> {
    try {
      return await this.client.register(this.registration(hostId));
    } catch (error) {
      const idRefused = error instanceof ApiError && error.status === 403 && error.body.field === "hostId";
      if (hostId === undefined || !idRefused) throw error;
      this.log(`skyclaw host: the coordinator will not let SKYCLAW_TOKEN re-register ${hostId} (${error.message}); registering as a new host`);
      return await this.client.register(this.registration(undefined));
    }
  }

  /** The coordinator forgot this host (e.g. a fresh database): register again under the same id. */
  private reRegister(): Promise<void> {
    this.registering ??= this.register(this.hostId)
      .then(() => this.log(`skyclaw host: the coordinator did not know ${this.hostId}; registered again`))
      .catch((error) => {
        if (error instanceof HostRevokedError) this.revokedByCoordinator();
        else this.log(`skyclaw host: could not register again: ${describe(error)}`);
      })
      .finally(() => (this.registering = undefined));
    return this.registering;
  }

  // --- heartbeats and leases ----------------------------------------------------------------

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatInFlight = this.heartbeat().finally(() => {
        this.heartbeatInFlight = undefined;
        if (this.state !== "stopped") this.scheduleHeartbeat();
      });
    }, this.timings.heartbeatMs);
  }

  private async heartbeat(): Promise<void> {
    const running = [...this.slots.values()].map(({ run }) => ({ jobId: run.jobId, attempt: run.attempt }));
    const sentAt = Date.now();
    try {
      const response = await this.quickClient.heartbeat(this.hostId, { running });
      if (this.failedHeartbeats > 0) this.log(`skyclaw host: heartbeats work again after ${this.failedHeartbeats} failure(s)`);
      this.failedHeartbeats = 0;
      for (const lease of response.renewed) {
        const slot = this.slotOf(lease.jobId, lease.attempt);
        if (slot !== undefined) this.armLease(slot, sentAt + this.stopWithinMs());
      }
      for (const lease of response.cancel) {
        const slot = this.slotOf(lease.jobId, lease.attempt);
        if (slot === undefined || slot.reporting) continue;
        this.log(`job ${lease.jobId} (attempt ${lease.attempt}): cancel requested; stopping it`);
        slot.run.stop("cancelled");
      }
      for (const lease of response.lost) {
        const slot = this.slotOf(lease.jobId, lease.attempt);
        if (slot === undefined || slot.reporting) continue;
        this.log(`job ${lease.jobId} (attempt ${lease.attempt}): the coordinator says this host no longer holds its lease; stopping it`);
        slot.run.stop("lease_lost");
      }
      if (response.drain && this.state === "running") {
        this.log("skyclaw host: the coordinator asked this host to drain");
        void this.drain();
      }
    } catch (error) {
      if (isRevocation(error)) return this.revokedByCoordinator();
      if (this.coordinatorForgotThisHost(error)) {
        await this.reRegister();
        return;
      }
      this.failedHeartbeats++;
      if (this.failedHeartbeats === 1) this.log(`skyclaw host: heartbeat failed: ${describe(error)}`);
    }
  }

  /** 404: a fresh coordinator state without this host; a plain 401 for its credential: the same, with scoped secrets. */
  private coordinatorForgotThisHost(error: unknown): boolean {
    if (error instanceof ApiError && error.status === 404) return true;
    return this.credential !== undefined && isUnknownCredential(error);
  }

  /** Stops everything at once: the coordinator already requeued the jobs, so nothing is reported. */
  private revokedByCoordinator(): void {
    if (this.revoked || this.state === "stopped") return;
    this.revoked = true;
    this.log(revokedLine(this.hostId));
    this.state = "stopping";
    this.stopClaiming();
    for (const slot of this.slots.values()) if (!slot.reporting) slot.run.stop("lease_lost");
    this.stopIfIdle();
  }

  private slotOf(jobId: string, attempt: number): Slot | undefined {
    const slot = this.slots.get(jobId);
    return slot !== undefined && slot.run.attempt === attempt ? slot : undefined;
  }

  /**
   * How long after a renewal was sent the host lets a job run without another one. The job
   * must be gone before the coordinator can hand it to another host, so the host starts
   * stopping it early enough for SIGTERM, the kill grace period and a heartbeat of slack to
   * fit inside the lease.
   */
  private stopWithinMs(): number {
    const { leaseMs, heartbeatMs } = this.timings;
    return Math.max(Math.floor(leaseMs / 2), leaseMs - this.config.killGraceMs - heartbeatMs);
  }

  private armLease(slot: Slot, deadline: number): void {
    if (deadline <= slot.leaseDeadline) return;
    slot.leaseDeadline = deadline;
    clearTimeout(slot.leaseTimer);
    slot.leaseTimer = setTimeout(() => {
      if (slot.reporting) return;
      this.log(`job ${slot.run.jobId} (attempt ${slot.run.attempt}): could not renew its lease in time; stopping it`);
      slot.run.stop("lease_lost");
    }, deadline - Date.now());
  }

  // --- claiming and running -----------------------------------------------------------------

  private async claimLoop(): Promise<void> {
    let failures = 0;
    try {
      while (this.state === "running") {
        const free = this.config.maxParallel - this.slots.size;
        if (free <= 0) {
          await new Promise<void>((resolve) => (this.wakeClaimLoop = resolve));
          continue;
        }
        try {
          const { jobs } = await this.client.claim(this.hostId, free, this.timings.claimWaitMs, this.claimAbort.signal);
          failures = 0;
          const claimedAt = Date.now();
          for (const job of jobs) this.launch(job, claimedAt);
        } catch (error) {
          if (this.state !== "running") break;
          if (isRevocation(error)) {
            this.revokedByCoordinator();
            break;
          }
          failures++;
          if (this.coordinatorForgotThisHost(error)) await this.reRegister();
          else this.log(`skyclaw host: claim failed: ${describe(error)}`);
          await this.pause(Math.min(MAX_CLAIM_BACKOFF_MS, 100 * 2 ** Math.min(failures, 6)));
        }
      }
    } finally {
      this.claimLoopDone = true;
      this.stopIfIdle();
    }
  }

  private launch(job: Job, claimedAt: number): void {
    if (this.slots.has(job.id)) return;
    const run = new JobRun(job, { context: this.context, client: this.outputClient, hostId: this.hostId, log: this.log });
    const slot: Slot = { run, leaseTimer: undefined, leaseDeadline: 0, reporting: false };
    this.slots.set(job.id, slot);
    this.armLease(slot, claimedAt + this.stopWithinMs());
    if (this.state === "stopping") run.stop("host_shutdown");
    void this.finish(slot);
  }

  private async finish(slot: Slot): Promise<void> {
    const { run } = slot;
    let outcome: JobOutcome | null;
    try {
      outcome = await run.done;
    } catch (error) {
      outcome = { status: "failed", result: { exitCode: null, signal: null, durationMs: 0, reason: "host_error", message: describe(error).slice(0, 4_000) } };
      this.log(`job ${run.jobId} (attempt ${run.attempt}): host error: ${describe(error)}`);
    }
    slot.reporting = true;
    if (outcome !== null) await this.report(slot, outcome);
    clearTimeout(slot.leaseTimer);
    this.slots.delete(run.jobId);
    this.wakeClaimLoop?.();
    this.stopIfIdle();
  }

  /**
   * Hands the completion to the reporter, which batches it with others that finish meanwhile and
   * retries it while this host still holds the lease (heartbeats keep renewing it).
   */
  private report(slot: Slot, outcome: JobOutcome): Promise<void> {
    const { run } = slot;
    return this.completions.report({ jobId: run.jobId, attempt: run.attempt, ...outcome }, () => slot.leaseDeadline);
  }

  // --- stopping -----------------------------------------------------------------------------

  private stopClaiming(): void {
    this.claimAbort.abort();
    this.wakeClaimLoop?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.claimAbort.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }

  private stopIfIdle(): void {
    if (this.state === "running" || this.state === "stopped") return;
    if (!this.claimLoopDone || this.slots.size > 0) return;
    this.state = "stopped";
    clearTimeout(this.heartbeatTimer);
    void Promise.resolve(this.heartbeatInFlight).finally(() => {
      this.log(`skyclaw host: ${this.hostId} stopped`);
      this.resolveStopped(this.revoked ? "revoked" : "stopped");
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
