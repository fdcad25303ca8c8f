/**
 * One coordinator's moving parts: the SQLite file, the state machine, the log that feeds it,
 * the long-poll waiters, and the timer that proposes time-driven commands.
 *
 * Routes change state only through `submit`, which stamps the time and the idempotency record
 * and proposes the command to the log; they read state directly with the queries of state/.
 */
import type { Database } from "bun:sqlite";
import type { CoordinatorConfig } from "../config";
import { openDatabase } from "../db";
import { log } from "../log";
import { LocalLog } from "../raft/local-log";
import type { AppliedEntry, Proposer } from "../raft/proposer";
import type { Command, CommandResult, CompletionOutcome } from "../state/commands";
import { claimableWork, getJob, nextDeadline, oldestIdempotencyExpiry } from "../state/queries";
import { canonicalSet } from "../state/rows";
import { StateMachine } from "../state/state-machine";
import { HttpError } from "./http-errors";
import { Waiters } from "./waiters";
import type { Job } from "../api";
import type { ExpiryReport } from "../state/commands/leases";

/** A command as a route builds it: the node stamps `at`. */
export type Proposal = Command extends infer C ? (C extends Command ? Omit<C, "at"> : never) : never;

export interface Clock {
  now(): number;
}

const IDEMPOTENCY_PRUNE_INTERVAL_MS = 60_000;
/** Most parked claims woken per requirement set after a claim; more wake as those claim. */
const WAKE_BATCH_LIMIT = 64;

export class CoordinatorNode {
  readonly db: Database;
  readonly stateMachine: StateMachine;
  readonly log: Proposer<Command, CommandResult>;
  readonly waiters = new Waiters();
  private expiryTimer: ReturnType<typeof setInterval> | undefined;
  private expiryInFlight = false;
  private lastIdempotencyPrune = 0;
  private backoffTimers = new Set<ReturnType<typeof setTimeout>>();
  /** Built once: db.transaction() makes four wrapper functions each time it is called. */
  private readonly inReadTransaction: (read: () => unknown) => unknown;
  /** False in a cluster: the connection is the Raft driver's, closed with the log. */
  private readonly ownsDb: boolean;

  constructor(
    readonly config: CoordinatorConfig,
    readonly clock: Clock = { now: () => Date.now() },
    /** In a cluster, the Raft driver (src/coordinator/cluster/) and its connection; alone, the local log on this db. */
    clusterLog?: Proposer<Command, CommandResult> & { readonly stateDb: Database },
  ) {
    this.db = clusterLog?.stateDb ?? openDatabase(config.dbPath);
    this.ownsDb = clusterLog === undefined;
    this.stateMachine = new StateMachine(this.db);
    this.log = clusterLog ?? new LocalLog<Command, CommandResult>(this.db, this.stateMachine);
    this.inReadTransaction = this.db.transaction((read: () => unknown) => read());
    this.log.onApplied((entries) => this.read(() => this.wakeWaiters(entries)));
  }

  /**
   * Runs several reads of the state in one read transaction. In WAL mode each statement run
   * outside a transaction is a transaction of its own, which takes and releases SQLite's file
   * locks (fcntl system calls): about 6 µs here, against 0.6 µs for the same read inside a
   * transaction. `read` must be synchronous (an await inside would hold the transaction open
   * across other requests and the log's writes).
   */
  read<T>(read: () => T): T {
    return this.db.inTransaction ? read() : (this.inReadTransaction(read) as T);
  }

  /** Proposes a command and returns its value, or throws the refusal as an HttpError. */
  async submit<T>(proposal: Proposal): Promise<T> {
    // A retry of a request already applied is answered by the state machine from its
    // idempotency record (apply is where that is authoritative). Looking the key up here first
    // as well cost every write a read to spare the rare retry one log entry.
    const applied = this.log.propose({ ...proposal, at: this.clock.now() } as Command);
    // A parked claim that could take this job is woken now, so its claim is proposed in the
    // same turn and committed in the same batch, behind the enqueue (one fsync, not two).
    if (proposal.type === "enqueue") {
      const requires = canonicalSet([proposal.spec.kind, ...proposal.requires]);
      // Parked claims check their host's free slots in the database as they are considered.
      if (this.waiters.parkedClaims > 0) this.read(() => this.waiters.workAvailable(requires, 1));
    }
    return unwrap<T>(await applied);
  }

  /** Starts the timer that proposes lease expiry when something is due. */
  startTimers(): void {
    const { leaseMs } = this.config.timings;
    const tickMs = Math.max(20, Math.min(1_000, Math.floor(leaseMs / 10)));
    this.expiryTimer = setInterval(() => void this.expireIfDue(), tickMs);
  }

  close(): void {
    clearInterval(this.expiryTimer);
    for (const timer of this.backoffTimers) clearTimeout(timer);
    this.waiters.wakeAll();
    this.log.close();
    if (this.ownsDb) this.db.close();
  }

  private async expireIfDue(): Promise<void> {
    if (this.expiryInFlight || this.log.role() !== "leader") return;
    const now = this.clock.now();
    const { due, pruneDue } = this.read(() => ({
      due: nextDeadline(this.db, this.config.timings.hostTimeoutMs),
      pruneDue: now - this.lastIdempotencyPrune >= IDEMPOTENCY_PRUNE_INTERVAL_MS && (oldestIdempotencyExpiry(this.db) ?? Infinity) <= now,
    }));
    if ((due === null || due > now) && !pruneDue) return;
    this.expiryInFlight = true;
    try {
      if (pruneDue) this.lastIdempotencyPrune = now;
      await this.submit({ type: "expireLeases", hostTimeoutMs: this.config.timings.hostTimeoutMs });
    } catch (error) {
      log.error("coordinator: lease expiry failed", { error });
    } finally {
      this.expiryInFlight = false;
    }
  }

  /** Turns applied entries into wake-ups: new work for waiting claims, changes for job readers. */
  private wakeWaiters(entries: AppliedEntry<Command, CommandResult>[]): void {
    let workMayRemain = false;
    for (const { command, result } of entries) {
      if (!result.ok) continue;
      switch (command.type) {
        case "enqueue":
          // Its claim was woken when it was proposed; a host that parked since is served below.
          this.waiters.jobChanged((result.value as Job).id);
          workMayRemain = true;
          break;
        case "complete":
        case "cancel":
          this.jobChanged(result.value as Job);
          break;
        case "completeMany":
          for (const outcome of (result.value as { results: CompletionOutcome[] }).results) {
            if (!outcome.ok) continue;
            this.waiters.jobChanged(outcome.jobId);
            // A failure that is retried: its backoff needs the job's requirements and availableAt.
            const requeued = outcome.state === "queued" ? getJob(this.db, outcome.jobId) : null;
            if (requeued !== null) this.jobChanged(requeued);
          }
          break;
        case "claim":
          workMayRemain = true;
          for (const job of (result.value as { jobs: Job[] }).jobs) this.waiters.jobChanged(job.id);
          break;
        case "appendOutput":
          this.waiters.jobChanged(command.jobId);
          break;
        case "expireLeases": {
          const report = result.value as ExpiryReport;
          for (const jobId of [...report.dead, ...report.cancelled]) this.waiters.jobChanged(jobId);
          for (const jobId of report.requeued) {
            const job = getJob(this.db, jobId);
            if (job !== null) this.jobChanged(job);
          }
          break;
        }
      }
    }
    if (workMayRemain && this.waiters.parkedClaims > 0) this.wakeForQueuedWork();
  }

  private jobChanged(job: Job): void {
    this.waiters.jobChanged(job.id);
    if (job.state !== "queued") return;
    const delay = job.availableAt - this.clock.now();
    if (delay <= 0) this.waiters.workAvailable(job.requires, 1);
    else this.later(delay, () => this.read(() => this.waiters.workAvailable(job.requires, 1)));
  }

  /**
   * A woken claim may take another job than the one that woke it (a better one it can also
   * run), leaving that job to nobody; and a host may have parked while an enqueue was being
   * committed. So after claims and enqueues, hosts still parked are offered whatever claimable
   * work remains.
   */
  private wakeForQueuedWork(): void {
    for (const { requires, claimable } of claimableWork(this.db, this.clock.now(), WAKE_BATCH_LIMIT)) {
      this.waiters.workAvailable(requires, claimable);
    }
  }

  private later(delayMs: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      action();
    }, delayMs);
    this.backoffTimers.add(timer);
  }
}

function unwrap<T>(result: CommandResult): T {
  if (!result.ok) throw HttpError.fromCommand(result.error);
  return result.value as T;
}
