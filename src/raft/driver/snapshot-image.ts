/**
 * The event loop's side of snapshot-worker.ts: writes an image of the state database on a worker
 * thread and resolves with the log index the image reflects. One worker per image, ended when the
 * image is written: snapshots are rare, and an idle thread would hold memory for nothing.
 */
import { workerUrl } from "../../worker-url";

export interface ImageRequest {
  statePath: string;
  temporaryPath: string;
}

export type ImageResult = { ok: true; index: number; bytes: number } | { ok: false; message: string };

export class SnapshotImageWriter {
  private worker: Worker | null = null;

  /** Whether an image is being written now (at most one is). */
  get busy(): boolean {
    return this.worker !== null;
  }

  /** Copies the database at `statePath` into `temporaryPath` (fsynced) off the event loop. */
  write(statePath: string, temporaryPath: string): Promise<{ index: number; bytes: number }> {
    if (this.worker !== null) return Promise.reject(new Error("a snapshot image is already being written"));
    const worker = new Worker(workerUrl("raft/driver/snapshot-worker.ts"));
    this.worker = worker;
    // A snapshot in progress must not keep a stopping process alive.
    worker.unref();
    return new Promise((resolve, reject) => {
      const finish = () => {
        if (this.worker === worker) this.worker = null;
        worker.terminate();
      };
      worker.onmessage = (event: MessageEvent<ImageResult>) => {
        finish();
        const result = event.data;
        if (result.ok) resolve({ index: result.index, bytes: result.bytes });
        else reject(new Error(`writing the snapshot image failed: ${result.message}`));
      };
      worker.onerror = (event: ErrorEvent) => {
        finish();
        reject(new Error(`the snapshot worker failed: ${event.message}`));
      };
      const request: ImageRequest = { statePath, temporaryPath };
      worker.postMessage(request);
    });
  }

  /** Stops a worker still writing; its promise never settles and its temporary file is left for cleanup. */
  stop(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
