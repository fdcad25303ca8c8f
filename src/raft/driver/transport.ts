/**
 * Sending Raft messages to peers over HTTP, never blocking the Ready loop.
 *
 * Each peer has a bounded queue and at most one request in flight: messages queued while a
 * request is out go together in the next one, so a busy leader sends large batches and an idle
 * one sends single heartbeats. On overflow the newest messages are dropped, and a failed or
 * timed-out request drops its batch: Raft retransmits what matters (heartbeats, probes).
 *
 * Snapshots travel apart, on their own route, as the raw image file with the message's metadata
 * in a header; a failed snapshot is reported to the core so it is sent again.
 */
import type { Message, NodeId, SnapshotMessage } from "../core";

export const MESSAGES_PATH = "/v1/replicate/messages";
export const SNAPSHOT_PATH = "/v1/replicate/snapshot";
export const PEER_TOKEN_HEADER = "x-skyclaw-peer-token";
export const SNAPSHOT_META_HEADER = "x-skyclaw-snapshot";

export interface TransportOptions {
  token: string | undefined;
  /** Path of the snapshot image named by `Snapshot.data`. */
  snapshotPath(name: string): string;
  /** The core must resend a snapshot that did not arrive. */
  onSnapshotFailed(to: NodeId): void;
  requestTimeoutMs?: number;
  snapshotTimeoutMs?: number;
  maxQueuedMessages?: number;
}

interface Peer {
  queue: Message[];
  sending: boolean;
  snapshotSending: boolean;
  dropped: number;
  lastError: string | null;
}

export class PeerTransport {
  private readonly peers = new Map<NodeId, Peer>();
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly snapshotTimeoutMs: number;
  private readonly maxQueuedMessages: number;

  constructor(private readonly options: TransportOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000;
    this.snapshotTimeoutMs = options.snapshotTimeoutMs ?? 120_000;
    this.maxQueuedMessages = options.maxQueuedMessages ?? 4_096;
  }

  /** Queues messages for their destinations and returns at once. */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const touched = new Set<NodeId>();
    for (const message of messages) {
      const peer = this.peer(message.to);
      if (message.type === "snapshot") {
        this.sendSnapshot(message.to, peer, message);
        continue;
      }
      if (peer.queue.length >= this.maxQueuedMessages) {
        peer.dropped++;
        continue;
      }
      peer.queue.push(message);
      touched.add(message.to);
    }
    for (const to of touched) this.pump(to, this.peer(to));
  }

  /** Per-peer counters, for the cluster status page. */
  stats(): Record<NodeId, { queued: number; dropped: number; lastError: string | null }> {
    const stats: Record<NodeId, { queued: number; dropped: number; lastError: string | null }> = {};
    for (const [id, peer] of this.peers) stats[id] = { queued: peer.queue.length, dropped: peer.dropped, lastError: peer.lastError };
    return stats;
  }

  close(): void {
    this.closed = true;
    this.peers.clear();
  }

  private peer(id: NodeId): Peer {
    let peer = this.peers.get(id);
    if (peer === undefined) {
      peer = { queue: [], sending: false, snapshotSending: false, dropped: 0, lastError: null };
      this.peers.set(id, peer);
    }
    return peer;
  }

  private pump(to: NodeId, peer: Peer): void {
    if (peer.sending || peer.queue.length === 0 || this.closed) return;
    const batch = peer.queue;
    peer.queue = [];
    peer.sending = true;
    void this.post(`${to}${MESSAGES_PATH}`, JSON.stringify({ messages: batch }), "application/json", {}, this.requestTimeoutMs)
      .then(
        () => {
          peer.lastError = null;
        },
        (error: unknown) => {
          peer.dropped += batch.length;
          peer.lastError = describe(error);
        },
      )
      .finally(() => {
        peer.sending = false;
        this.pump(to, peer);
      });
  }

  private sendSnapshot(to: NodeId, peer: Peer, message: SnapshotMessage): void {
    // One image at a time per peer: the core resends after a failure or its own timeout.
    if (peer.snapshotSending) return;
    peer.snapshotSending = true;
    const { data, ...snapshotMeta } = message.snapshot;
    const meta = JSON.stringify({ ...message, snapshot: { ...snapshotMeta, data: "" } });
    const file = Bun.file(this.options.snapshotPath(data));
    void this.post(`${to}${SNAPSHOT_PATH}`, file, "application/octet-stream", { [SNAPSHOT_META_HEADER]: encodeURIComponent(meta) }, this.snapshotTimeoutMs)
      .catch((error: unknown) => {
        peer.lastError = `snapshot: ${describe(error)}`;
        if (!this.closed) this.options.onSnapshotFailed(to);
      })
      .finally(() => {
        peer.snapshotSending = false;
      });
  }

  private async post(url: string, body: string | Blob, contentType: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": contentType,
        ...(this.options.token === undefined ? {} : { [PEER_TOKEN_HEADER]: this.options.token }),
        ...headers,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    await response.arrayBuffer();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === "TimeoutError" ? "timed out" : error.message;
  return String(error);
}
