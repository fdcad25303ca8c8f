/**
 * The messages between the main thread (WorkerLog) and the log writer thread
 * (local-log-writer.ts), which owns the database's write connection.
 *
 * main → writer:
 *   open     first message: the database file to open; `closedSignal` is set to 1 (and notified)
 *            once the writer's connection is closed, so close() can wait for it synchronously.
 *   propose  one batch of commands, appended and applied in one transaction, in the order sent.
 *   close    after the last batch: the writer answers every batch sent, closes its connection,
 *            sets `closedSignal`, then sends `closed`.
 *
 * writer → main (batches are answered in the order they were sent):
 *   applied  the batch is committed: `indexes[i]` and `results[i]` belong to `commands[i]`.
 *   rejected the batch's transaction failed and nothing of it was committed.
 *   fatal    the writer cannot go on (the database would not open): every proposal fails.
 *   closed   the writer has closed its connection and may be terminated.
 */
export type ToLogWriter<C> =
  | { type: "open"; dbPath: string; closedSignal: Int32Array }
  | { type: "propose"; batchId: number; commandsJson: string }
  | { type: "close" };

export type FromLogWriter<R> =
  | { type: "applied"; batchId: number; indexes: number[]; resultsJson: string }
  | { type: "rejected"; batchId: number; message: string }
  | { type: "fatal"; message: string }
  | { type: "closed" };
