/**
 * The Proposer of a cluster of one, with the LocalLog running on its own thread
 * (local-log-writer.ts) so that SQLite's CPU and the fsync that ends every commit do not block
 * the event loop that serves requests. The main thread keeps its own connection for reads
 * (WAL: a reader sees every committed transaction, and a proposal resolves only after its commit,
 * so a read after `await propose(...)` sees the write).
 *
 * Group commit and pipelining: proposals made during one event-loop turn go to the writer as one
 * message; while the writer commits that batch, new proposals queue here and are sent together
 * the moment the batch is answered. One batch is in flight at a time, so results and onApplied
 * batches come back in log order.
 */
import type { AppliedEntry, Proposer } from "./proposer";
import type { FromLogWriter, ToLogWriter } from "./log-writer-protocol";

/**
 * The writer's entry point. From source it sits beside this file. In the compiled binary (where
 * `bun run build` adds it as an extra entrypoint) every module's import.meta.url is the
 * executable's, at the root of the embedded tree, which mirrors src/.
 */
const LOG_WRITER_ENTRY = import.meta.url.endsWith("/raft/worker-log.ts")
  ? new URL("./local-log-writer.ts", import.meta.url).href
  : new URL("./raft/local-log-writer.ts", import.meta.url).href;
/** How long close() waits for the writer to commit what it was sent and close its connection. */
const CLOSE_TIMEOUT_MS = 30_000;

interface Pending<C, R> {
  command: C;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class WorkerLog<C, R> implements Proposer<C, R> {
  private pending: Pending<C, R>[] = [];
  /** Batches sent and not yet answered, oldest first (a Map keeps insertion order). */
  private readonly inFlight = new Map<number, Pending<C, R>[]>();
  private nextBatchId = 1;
  private flushScheduled = false;
  private closed = false;
  /** Set once the writer is gone for good; every proposal then fails with it. */
  private failure: Error | undefined;
  private terminated = false;
  private listeners: ((entries: AppliedEntry<C, R>[]) => void)[] = [];
  private readonly worker: Worker;
  private readonly closedSignal = new Int32Array(new SharedArrayBuffer(4));

  constructor(dbPath: string, writerEntry: string = LOG_WRITER_ENTRY) {
    this.worker = new Worker(writerEntry);
    this.worker.onmessage = (event: MessageEvent<FromLogWriter<R>>) => this.receive(event.data);
    this.worker.addEventListener("error", (event) => this.fail(`the log writer failed: ${(event as ErrorEvent).message}`));
    this.worker.addEventListener("close", () => {
      if (!this.terminated) this.fail("the log writer stopped unexpectedly");
    });
    this.post({ type: "open", dbPath, closedSignal: this.closedSignal });
    // An idle writer must not keep the process alive; it is referenced while batches are in flight.
    this.worker.unref();
  }

  role(): "leader" {
    return "leader";
  }

  onApplied(listener: (entries: AppliedEntry<C, R>[]) => void): void {
    this.listeners.push(listener);
  }

  propose(command: C): Promise<R> {
    if (this.closed) return Promise.reject(new Error("log is closed"));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ command, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          if (this.inFlight.size === 0) this.sendPending();
        });
      }
    });
  }

  /**
   * Sends what is pending, then blocks until the writer has committed everything it was sent and
   * closed its connection, so the file can be reopened at once. The proposals' promises settle
   * as the answers arrive, after which the writer thread is terminated.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure !== undefined) return;
    this.sendPending();
    this.post({ type: "close" });
    this.worker.ref();
    if (Atomics.wait(this.closedSignal, 0, 0, CLOSE_TIMEOUT_MS) === "timed-out") {
      this.fail(`the log writer did not close within ${CLOSE_TIMEOUT_MS} ms`);
    }
  }

  private sendPending(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const batchId = this.nextBatchId++;
    this.inFlight.set(batchId, batch);
    this.worker.ref();
    this.post({ type: "propose", batchId, commandsJson: JSON.stringify(batch.map((entry) => entry.command)) });
  }

  private receive(message: FromLogWriter<R>): void {
    switch (message.type) {
      case "applied":
      case "rejected": {
        const batch = this.inFlight.get(message.batchId);
        if (batch === undefined) return;
        this.inFlight.delete(message.batchId);
        // Start the writer on the next batch before answering this one.
        if (!this.closed) this.sendPending();
        if (this.inFlight.size === 0 && !this.closed) this.worker.unref();
        if (message.type === "applied") this.settleApplied(batch, message.indexes, JSON.parse(message.resultsJson) as R[]);
        else this.settleRejected(batch, message.message);
        break;
      }
      case "fatal":
        this.fail(message.message);
        break;
      case "closed":
        this.terminate();
        break;
    }
  }

  private settleApplied(batch: Pending<C, R>[], indexes: number[], results: R[]): void {
    const applied = batch.map((entry, i) => ({ index: indexes[i]!, command: entry.command, result: results[i]! }));
    batch.forEach((entry, i) => entry.resolve(results[i]!));
    for (const listener of this.listeners) {
      // The entries are committed and their proposers answered: a failing listener must not undo that.
      try {
        listener(applied);
      } catch (error) {
        console.error("skyclaw: a listener of applied log entries failed:", error);
      }
    }
  }

  private settleRejected(batch: Pending<C, R>[], message: string): void {
    console.error(`skyclaw: a batch of ${batch.length} log entries was not committed: ${message}`);
    const error = new Error(message);
    for (const entry of batch) entry.reject(error);
  }

  /** The writer is gone: everything sent or pending fails, and so will every later proposal. */
  private fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = new Error(reason);
    console.error(`skyclaw: ${reason}`);
    const outstanding = [...this.inFlight.values()].flat().concat(this.pending);
    this.inFlight.clear();
    this.pending = [];
    for (const entry of outstanding) entry.reject(this.failure);
    this.terminate();
  }

  private terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.worker.terminate();
  }

  private post(message: ToLogWriter<C>): void {
    this.worker.postMessage(message);
  }
}
