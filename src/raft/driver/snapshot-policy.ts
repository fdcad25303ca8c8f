/**
 * When a node takes its next snapshot.
 *
 * An image costs time proportional to the state, so taking one every fixed number of entries
 * makes the cost per entry grow with the state. A snapshot is due only once the log since the
 * last one is both at least `intervalEntries` long and at least as many bytes as the last image:
 * each image is then paid for by a log of comparable size, and the cost per entry stays flat
 * however large the state grows (the retained log is at most about one image in size).
 *
 * Every node applies the same entries, so without more they would all snapshot at the same
 * moment and compete for the same cores and disk. Each node stretches both thresholds by its own
 * deterministic share (0 to MAX_STAGGER, from a hash of its id), which keeps them apart.
 */

const MAX_STAGGER = 0.5;

export class SnapshotPolicy {
  readonly stagger: number;
  private lastImageBytes: number;
  /** Log bytes applied since the state the last image reflects. */
  private logBytesSince: number;

  constructor(
    nodeId: string,
    private readonly intervalEntries: number,
    restored: { imageBytes: number; logBytesSince: number },
  ) {
    this.stagger = (nodeHash32(nodeId) / 2 ** 32) * MAX_STAGGER;
    this.lastImageBytes = restored.imageBytes;
    this.logBytesSince = restored.logBytesSince;
  }

  applied(logBytes: number): void {
    this.logBytesSince += logBytes;
  }

  due(entriesSinceSnapshot: number): boolean {
    const scale = 1 + this.stagger;
    return entriesSinceSnapshot >= this.intervalEntries * scale && this.logBytesSince >= this.lastImageBytes * scale;
  }

  /** A snapshot of `imageBytes` now covers the log up to where `logBytesCovered` were counted. */
  taken(imageBytes: number, logBytesCovered: number): void {
    this.lastImageBytes = imageBytes;
    this.logBytesSince = Math.max(0, this.logBytesSince - logBytesCovered);
  }

  /** Log bytes counted so far since the last image (what a snapshot started now would cover). */
  get pendingLogBytes(): number {
    return this.logBytesSince;
  }
}

/**
 * FNV-1a, 32 bits, then murmur3's final mix: a stable spread of node ids, the same in every
 * process and version. The mix matters: ids often differ only in their last characters (ports).
 */
function nodeHash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
