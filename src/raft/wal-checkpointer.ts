/**
 * Checkpoints of a SQLite WAL off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages, on
 * the committing thread: it copies those pages into the database file and fsyncs both files,
 * while the coordinator's only thread serves nobody (measured: with it off, applying an
 * enqueue took 18 µs instead of 32). Here the writer's automatic checkpoint is off, and a worker
 * thread with a connection of its own (wal-checkpoint-worker.ts) runs PASSIVE checkpoints after
 * commits, one at a time, at most every `intervalMs`. A later checkpoint copies a page once
 * however often it was written meanwhile.
 *
 * A PASSIVE checkpoint copies the WAL up to where it was when it started, and SQLite starts the
 * WAL over (instead of appending) only at a write that finds all of it copied: under steady
 * writes, a worker never gets there, and the WAL would grow for ever. So once the worker reports
 * more than `restartFrames` frames, the writer's thread runs one PASSIVE checkpoint itself
 * between two commits: it copies only what came since the worker's (a few frames), and the next
 * commit starts the WAL over. `journal_size_limit` then truncates a WAL file that grew large.
 */
import type { Database } from "bun:sqlite";
import { workerUrl } from "../worker-url";

export interface CheckpointRequest {
  path: string;
}

export type CheckpointReply = { ok: true; walFrames: number; checkpointedFrames: number } | { ok: false; message: string };

export interface WalCheckpointerOptions {
  /** Least time between the starts of two checkpoints. */
  intervalMs?: number;
  /** WAL size (in frames, about a page each) at which the writer's thread lets the WAL start over. */
  restartFrames?: number;
  /** Called after each checkpoint (tests, logs). */
  onCheckpoint?: (reply: CheckpointReply) => void;
}

const DEFAULT_INTERVAL_MS = 100;
const DEFAULT_RESTART_FRAMES = 4_096;
/** A WAL file that grew past this while it could not start over is truncated back to it. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1_048_576;

export class WalCheckpointer {
  private worker: Worker | null = null;
  private inFlight = false;
  private dirty = false;
  private lastStartedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private restartDue = false;
  private closed = false;
  private readonly path: string | null;
  private readonly intervalMs: number;
  private readonly restartFrames: number;

  constructor(
    private readonly db: Database,
    private readonly options: WalCheckpointerOptions = {},
  ) {
    const file = db.filename;
    // An in-memory database has no WAL.
    this.path = file === "" || file === ":memory:" ? null : file;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.restartFrames = options.restartFrames ?? DEFAULT_RESTART_FRAMES;
    if (this.path === null) return;
    db.exec("PRAGMA wal_autocheckpoint = 0");
    db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  }

  /**
   * To be called on the writer's thread after each write transaction commits: schedules a
   * checkpoint, and lets a WAL that grew large start over. Never blocks on the worker.
   */
  committed(): void {
    if (this.path === null || this.closed) return;
    if (this.restartDue) {
      this.restartDue = false;
      // Between two commits of this connection, so nothing of it is in flight: a PASSIVE
      // checkpoint here copies what came after the worker's and leaves the WAL fully copied.
      this.db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
    }
    this.dirty = true;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.worker?.terminate();
    this.worker = null;
  }

  private schedule(): void {
    if (this.inFlight || this.timer !== null || !this.dirty) return;
    const wait = this.lastStartedAt + this.intervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait);
      // Pending housekeeping must not keep a stopping process alive.
      this.timer.unref();
      return;
    }
    this.start();
  }

  private start(): void {
    this.dirty = false;
    this.inFlight = true;
    this.lastStartedAt = performance.now();
    const worker = this.ensureWorker();
    const request: CheckpointRequest = { path: this.path! };
    worker.postMessage(request);
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(workerUrl("raft/wal-checkpoint-worker.ts"));
    worker.unref();
    worker.onmessage = (event: MessageEvent<CheckpointReply>) => this.finished(event.data);
    worker.onerror = (event: ErrorEvent) => {
      // A worker that died is started again at the next checkpoint.
      if (this.worker === worker) this.worker = null;
      this.finished({ ok: false, message: event.message });
    };
    this.worker = worker;
    return worker;
  }

  private finished(reply: CheckpointReply): void {
    this.inFlight = false;
    if (this.closed) return;
    if (reply.ok) this.restartDue = reply.walFrames >= this.restartFrames;
    // A failed checkpoint (disk full, say) is tried again at the next interval; the WAL grows meanwhile.
    else console.error(`skyclaw: checkpointing ${this.path} failed: ${reply.message}`);
    this.options.onCheckpoint?.(reply);
    this.schedule();
  }
}
