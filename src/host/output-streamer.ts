/**
 * Sends a job's output to the coordinator while it runs (`POST /v1/jobs/:id/output`).
 *
 * Text is batched: a batch goes out ~100 ms after its first byte or as soon as 64 KiB are
 * pending, one request at a time so chunks arrive in order. Past `capBytes` nothing more is
 * streamed (the middle of a flood is dropped); at the end the caller sends the final tails, so
 * what the coordinator keeps is the head, a note, and the real end of the output. When the
 * coordinator is slower than the job, `write` returns a promise the reader awaits, which stops
 * reading the pipe and so pauses the job: memory stays bounded either way.
 */
import { LIMITS, type OutputStream } from "../api";
import { ApiError } from "../client/http";
import type { SkyclawClient } from "../client/skyclaw-client";
import { utf8Head, utf8Length } from "./utf8";

const FLUSH_DELAY_MS = 100;
const BATCH_BYTES = 65_536;
/** Pending bytes above which the reader is made to wait for the coordinator. */
const HIGH_WATER_BYTES = 4 * BATCH_BYTES;

interface Chunk {
  stream: OutputStream;
  data: string;
  bytes: number;
}

export interface OutputStreamerOptions {
  client: SkyclawClient;
  jobId: string;
  hostId: string;
  attempt: number;
  capBytes: number;
  /** The coordinator refused a write as stale: this host no longer holds the lease. */
  onLeaseLost: () => void;
  log: (line: string) => void;
}

export class OutputStreamer {
  private pending: Chunk[] = [];
  private pendingBytes = 0;
  private streamedBytes = 0;
  private readonly streamedByStream = { stdout: 0, stderr: 0, system: 0 };
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  /** True once output went past the cap and some of it was not sent. */
  overCap = false;
  private readonly chunkBytes: number;

  constructor(private readonly options: OutputStreamerOptions) {
    // The coordinator drops chunks larger than its tail, so keep each well under half the cap.
    this.chunkBytes = Math.max(256, Math.min(BATCH_BYTES, Math.floor(options.capBytes / 4)));
  }

  /** Queues text; the returned promise (if any) resolves when the reader may go on. */
  write(stream: OutputStream, text: string): Promise<void> | undefined {
    if (this.closed || text === "") return undefined;
    const remaining = this.options.capBytes - this.streamedBytes;
    if (remaining <= 0) {
      this.overCap = true;
      return undefined;
    }
    let bytes = utf8Length(text);
    if (bytes > remaining) {
      text = utf8Head(text, remaining);
      bytes = utf8Length(text);
      this.overCap = true;
    }
    this.streamedBytes += bytes;
    this.streamedByStream[stream] += bytes;
    this.enqueue(stream, text, bytes);
    if (this.pendingBytes >= BATCH_BYTES) this.flushSoon(0);
    else this.flushSoon(FLUSH_DELAY_MS);
    return this.pendingBytes >= HIGH_WATER_BYTES ? this.drainPending() : undefined;
  }

  /** Bytes of `stream` accepted for sending (the rest went past the cap). */
  streamedBytesOf(stream: OutputStream): number {
    return this.streamedByStream[stream];
  }

  /** Sends everything pending plus `extra` chunks (a note and the final tails), then stops. */
  async finish(extra: { stream: OutputStream; data: string }[] = []): Promise<void> {
    for (const chunk of extra) if (chunk.data !== "") this.enqueue(chunk.stream, chunk.data, utf8Length(chunk.data));
    await this.drainPending();
    this.closed = true;
  }

  /** Drops whatever is pending and sends nothing more (the lease is gone). */
  abandon(): void {
    this.closed = true;
    this.pending = [];
    this.pendingBytes = 0;
    clearTimeout(this.flushTimer);
  }

  private enqueue(stream: OutputStream, text: string, bytes: number): void {
    while (text !== "") {
      const last = this.pending.at(-1);
      if (last !== undefined && last.stream === stream && last.bytes < this.chunkBytes) {
        const piece = utf8Head(text, this.chunkBytes - last.bytes);
        if (piece !== "") {
          const pieceBytes = utf8Length(piece);
          last.data += piece;
          last.bytes += pieceBytes;
          this.pendingBytes += pieceBytes;
          text = text.slice(piece.length);
          bytes -= pieceBytes;
          continue;
        }
      }
      const piece = bytes <= this.chunkBytes ? text : utf8Head(text, this.chunkBytes);
      const pieceBytes = piece === text ? bytes : utf8Length(piece);
      this.pending.push({ stream, data: piece, bytes: pieceBytes });
      this.pendingBytes += pieceBytes;
      text = text.slice(piece.length);
      bytes -= pieceBytes;
    }
  }

  private flushSoon(delayMs: number): void {
    if (this.inFlight !== undefined) return; // the running send picks up what is pending
    if (this.flushTimer !== undefined && delayMs > 0) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.drainPending();
    }, delayMs);
  }

  /** Sends batches until nothing is pending; concurrent callers share the same sending loop. */
  private drainPending(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.inFlight ??= this.sendLoop().finally(() => {
      this.inFlight = undefined;
      // Text written while the loop was finishing found it still "in flight" and scheduled nothing.
      if (this.pending.length > 0 && !this.closed) this.flushSoon(FLUSH_DELAY_MS);
    });
    return this.inFlight;
  }

  private async sendLoop(): Promise<void> {
    while (this.pending.length > 0 && !this.closed) {
      const batch: Chunk[] = [];
      let batchBytes = 0;
      while (this.pending.length > 0 && batch.length < LIMITS.outputChunksPerRequest && batchBytes < BATCH_BYTES) {
        const chunk = this.pending.shift()!;
        batch.push(chunk);
        batchBytes += chunk.bytes;
      }
      this.pendingBytes -= batchBytes;
      await this.send(batch);
    }
  }

  private async send(batch: Chunk[]): Promise<void> {
    const { client, jobId, hostId, attempt } = this.options;
    try {
      await client.appendOutput(jobId, {
        hostId,
        attempt,
        chunks: batch.map(({ stream, data }) => ({ stream, data })),
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        this.abandon();
        this.options.onLeaseLost();
        return;
      }
      // Output is best effort: a coordinator that is away loses this batch, not the job.
      this.options.log(`job ${jobId}: could not send output (${error instanceof Error ? error.message : String(error)}); dropped ${batch.length} chunk(s)`);
    }
  }
}
