/**
 * Sending Raft messages to peers over HTTP, never blocking the Ready loop.
 *
 * Each peer has a bounded queue and at most MAX_BATCHES_IN_FLIGHT requests in flight: messages
 * queued while they are out go together in the next one, so a busy leader sends large batches
 * and an idle one sends single heartbeats. On overflow the newest messages are dropped, and a
 * failed or timed-out request drops its batch: Raft retransmits what matters (heartbeats, probes).
 *
 * Answers ride back on the request: while a peer's batch is being handled here (until the Ready
 * that stepped it is durable), messages for that peer are held, and then returned as the body of
 * the response instead of being sent in a request of their own. So a follower's
 * acknowledgements cost no HTTP request: one round trip per batch instead of two. Only for a
 * sender that asks for it (REPLY_HEADER); an older node gets `{ok: true}` as before.
 *
 * Batches are framed by wire.ts (the entries' data is not escaped into a JSON string), and go
 * over one keep-alive connection per peer with the lean client in raw-http.ts (fetch's own CPU
 * per request was a tenth of a busy leader's event loop).
 *
 * Snapshots travel apart, on their own route, as the raw image file with the message's metadata
 * in a header; a failed snapshot is reported to the core so it is sent again.
 */
import type { Message, NodeId, SnapshotMessage } from "../core";
import { RawHttpPool } from "../../client/raw-http";
import type { RaftTimings } from "./timings";
import { encodeMessages, WIRE_CONTENT_TYPE } from "./wire";

/**
 * Two batches may be out to a peer at once: entries appended while one is out go at once instead
 * of waiting a whole round trip for it. They travel on two connections, so the second can arrive
 * first; the follower then refuses it (a gap in its log) and the leader sends it again, as Raft
 * does for any lost append.
 */
const MAX_BATCHES_IN_FLIGHT = 2;

export const MESSAGES_PATH = "/v1/replicate/messages";
export const SNAPSHOT_PATH = "/v1/replicate/snapshot";
export const PEER_TOKEN_HEADER = "x-skyclaw-peer-token";
export const SNAPSHOT_META_HEADER = "x-skyclaw-snapshot";
/** On a batch: the sender takes messages for it in the response body. */
export const REPLY_HEADER = "x-skyclaw-raft-reply";

export interface TransportOptions {
  token: string | undefined;
  /** Path of the snapshot image named by `Snapshot.data`. */
  snapshotPath(name: string): string;
  /** The core must resend a snapshot that did not arrive. */
  onSnapshotFailed(to: NodeId): void;
  /** The body of a response to a batch: messages for this node (wire.ts), to be checked and stepped. */
  onReply(body: string): void;
  /** Told how long each batch took to be answered (the peer makes it durable first). */
  timings?: Pick<RaftTimings, "peerRoundTrip">;
  requestTimeoutMs?: number;
  snapshotTimeoutMs?: number;
  maxQueuedMessages?: number;
}

interface Peer {
  queue: Message[];
  /** Batches in flight to this peer (at most MAX_BATCHES_IN_FLIGHT). */
  sending: number;
  snapshotSending: boolean;
  /** Batches from this peer being handled here: its messages wait to go back in their responses. */
  replying: number;
  /** Batches go over its keep-alive connections (one per batch in flight), opened again after one breaks. */
  connections: RawHttpPool;
  dropped: number;
  lastError: string | null;
}

export class PeerTransport {
  private readonly peers = new Map<NodeId, Peer>();
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly snapshotTimeoutMs: number;
  private readonly maxQueuedMessages: number;
  private readonly replyWaitMs: number;

  constructor(private readonly options: TransportOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000;
    this.snapshotTimeoutMs = options.snapshotTimeoutMs ?? 120_000;
    this.maxQueuedMessages = options.maxQueuedMessages ?? 4_096;
    // Well inside the sender's request timeout, so the answer still finds it waiting.
    this.replyWaitMs = Math.floor(this.requestTimeoutMs / 2);
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

  /**
   * The body answering a batch from `from`: every message for it queued by the time `handled`
   * resolves (the Ready that stepped the batch is durable), wire-encoded. Meanwhile nothing is
   * sent to `from` in a request of its own.
   */
  async replyTo(from: NodeId, handled: Promise<void>): Promise<string> {
    const peer = this.peer(from);
    peer.replying++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // Bounded, so a stalled Ready (a disk that hangs) does not hold back what goes to `from`.
      await Promise.race([handled, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.replyWaitMs)))]);
    } finally {
      clearTimeout(timer);
      peer.replying--;
    }
    const batch = peer.queue;
    peer.queue = [];
    return encodeMessages(batch);
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) peer.connections.close();
    this.peers.clear();
  }

  private peer(id: NodeId): Peer {
    let peer = this.peers.get(id);
    if (peer === undefined) {
      peer = { queue: [], sending: 0, snapshotSending: false, replying: 0, connections: new RawHttpPool(id), dropped: 0, lastError: null };
      this.peers.set(id, peer);
    }
    return peer;
  }

  private pump(to: NodeId, peer: Peer): void {
    if (peer.sending >= MAX_BATCHES_IN_FLIGHT || peer.replying > 0 || peer.queue.length === 0 || this.closed) return;
    const batch = peer.queue;
    peer.queue = [];
    peer.sending++;
    void this.postBatch(to, peer, encodeMessages(batch))
      .then(
        (reply) => {
          peer.lastError = null;
          if (reply.length > 0 && !this.closed) this.options.onReply(reply);
        },
        (error: unknown) => {
          peer.dropped += batch.length;
          peer.lastError = describe(error);
        },
      )
      .finally(() => {
        peer.sending--;
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

  /** The response to a batch, once the peer answered 2xx. */
  private async postBatch(to: NodeId, peer: Peer, body: string): Promise<string> {
    const headers: Record<string, string> = { "content-type": WIRE_CONTENT_TYPE, [REPLY_HEADER]: "1" };
    if (this.options.token !== undefined) headers[PEER_TOKEN_HEADER] = this.options.token;
    // One deadline for connecting and answering; a late answer would be read as the next
    // batch's, so the pool ends the connection of a request that times out.
    const sentAt = performance.now();
    const response = await peer.connections.request("POST", MESSAGES_PATH, headers, body, AbortSignal.timeout(this.requestTimeoutMs));
    if (response.status < 200 || response.status > 299) throw new Error(`${to}${MESSAGES_PATH} answered ${response.status}: ${response.body.slice(0, 200)}`);
    this.options.timings?.peerRoundTrip(to, (performance.now() - sentAt) / 1000);
    return response.body;
  }

  /** The response body, once the peer answered 2xx. */
  private async post(url: string, body: string | Blob, contentType: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
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
    return response.text();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.name === "TimeoutError" ? "timed out" : error.message;
  return String(error);
}
