/**
 * The leader's view of one follower's log. `probe`: one AppendEntries at a time until a match is
 * found; `replicate`: entries are streamed optimistically (nextIndex advanced on send) with at most
 * `maxInflight` unacknowledged messages; `snapshot`: a snapshot is on its way, send nothing else.
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** Probe: a message is out and unanswered. */
  probeSent = false;
  /** Replicate: last index carried by each unacknowledged message, oldest first. */
  inflight: number[] = [];
  pendingSnapshotIndex = 0;
  snapshotElapsedTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;

  constructor(next: number) {
    this.next = next;
  }

  isPaused(maxInflight: number): boolean {
    if (this.state === "probe") return this.probeSent;
    if (this.state === "replicate") return this.inflight.length >= maxInflight;
    return true;
  }

  becomeProbe(next: number): void {
    this.state = "probe";
    this.next = Math.max(next, this.match + 1);
    this.probeSent = false;
    this.inflight = [];
    this.pendingSnapshotIndex = 0;
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.next = this.match + 1;
    this.probeSent = false;
    this.inflight = [];
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = "snapshot";
    this.pendingSnapshotIndex = snapshotIndex;
    this.snapshotElapsedTicks = 0;
    this.inflight = [];
  }

  /** Records that a message carrying entries up to `lastIndex` was sent. */
  sentEntries(lastIndex: number | null): void {
    if (this.state === "replicate" && lastIndex !== null) {
      this.next = lastIndex + 1;
      this.inflight.push(lastIndex);
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  /** A success acknowledgement up to `index`; false when it says nothing new (stale or duplicate). */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    while (this.inflight.length > 0 && this.inflight[0]! <= index) this.inflight.shift();
    return true;
  }

  /**
   * A rejection of prevIndex `rejected`; `hintNext` is where the leader estimates the logs start to
   * differ. Returns false for stale rejections (of a message that is no longer the one in question).
   */
  maybeDecrTo(rejected: number, hintNext: number): boolean {
    if (this.state === "snapshot") return false;
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
    } else if (this.next - 1 !== rejected) {
      return false;
    }
    this.becomeProbe(Math.min(rejected, hintNext));
    return true;
  }
}
