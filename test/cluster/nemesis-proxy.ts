/**
 * Link cuts between coordinators, made with one HTTP proxy in front of each coordinator's
 * peer traffic.
 *
 * A node's Raft id is the URL its peers send to (SKYCLAW_ADVERTISE_URL), so each node advertises
 * its proxy's URL and names the other nodes' proxies in SKYCLAW_PEER_URLS; clients and hosts use
 * the nodes' own URLs. A proxy knows the receiving node (it stands in front of it) and reads the
 * sender from the traffic: `from` of a batch of Raft messages or of a snapshot's message, and
 * `x-skyclaw-forwarded-by` of a client request a follower forwards to the leader. A cut link
 * (from → to, one way) answers 503 at once, so the sender drops that batch as on a lost
 * connection. A node that is down answers 503 too (the proxy itself always listens).
 */
import { FORWARDED_BY_HEADER } from "../../src/coordinator/cluster/leader-routing";
import { MESSAGES_PATH, SNAPSHOT_META_HEADER, SNAPSHOT_PATH } from "../../src/raft/driver/transport";
import { decodeMessages } from "../../src/raft/driver/wire";

export interface LinkCuts {
  /** Cuts traffic from `from` to `to` (Raft ids = proxy URLs), one way. */
  cut(from: string, to: string): void;
  heal(): void;
  isCut(from: string, to: string): boolean;
  describe(): string;
}

export function linkCuts(): LinkCuts {
  const cuts = new Set<string>();
  const key = (from: string, to: string) => `${from} -> ${to}`;
  return {
    cut: (from, to) => void cuts.add(key(from, to)),
    heal: () => cuts.clear(),
    isCut: (from, to) => cuts.has(key(from, to)),
    describe: () => (cuts.size === 0 ? "none" : [...cuts].join(", ")),
  };
}

export interface PeerProxy {
  /** The node's Raft id: what it advertises and what its peers send to. */
  url: string;
  /** Requests refused because their link was cut. */
  refused: number;
  stop(): void;
}

const REPLICATION_TIMEOUT_MS = 5_000;
/** Forwarded claims long-poll for up to the claim wait; this covers it with slack. */
const FORWARD_TIMEOUT_MS = 30_000;

export function startPeerProxy(port: number, target: () => string, cuts: LinkCuts): PeerProxy {
  const state: PeerProxy = { url: `http://127.0.0.1:${port}`, refused: 0, stop: () => server.stop(true) };
  const refuse = (why: string) =>
    Response.json({ error: "no_leader", message: `nemesis proxy: ${why}`, leader: null }, { status: 503, headers: { "retry-after": "1" } });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 60,
    async fetch(request) {
      const url = new URL(request.url);
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
      const from = sender(url.pathname, request.headers, body);
      if (from !== null && cuts.isCut(from, state.url)) {
        state.refused++;
        return refuse(`link ${from} -> ${state.url} is cut`);
      }
      const headers = new Headers(request.headers);
      headers.delete("host");
      headers.delete("content-length");
      const replication = url.pathname === MESSAGES_PATH || url.pathname === SNAPSHOT_PATH;
      const timeout = AbortSignal.timeout(replication ? REPLICATION_TIMEOUT_MS : FORWARD_TIMEOUT_MS);
      try {
        const upstream = await fetch(target() + url.pathname + url.search, {
          method: request.method,
          headers,
          body,
          signal: AbortSignal.any([timeout, request.signal]),
        });
        const answer = new Headers();
        for (const name of ["content-type", "retry-after"]) {
          const value = upstream.headers.get(name);
          if (value !== null) answer.set(name, value);
        }
        // A batch's response carries the node's messages back to the sender: not across a cut link.
        const replyCut = from !== null && url.pathname === MESSAGES_PATH && cuts.isCut(state.url, from);
        return new Response(replyCut ? "" : await upstream.arrayBuffer(), { status: upstream.status, headers: answer });
      } catch (error) {
        return refuse(`${target()} did not answer (${error instanceof Error ? error.message : String(error)})`);
      }
    },
  });
  return state;
}

/** Who sent this request to the node: a peer's Raft id, or null for a client or host. */
function sender(path: string, headers: Headers, body: ArrayBuffer | undefined): string | null {
  if (path === MESSAGES_PATH && body !== undefined) {
    try {
      const parsed = decodeMessages(new TextDecoder().decode(body)) as { messages?: { from?: string }[] };
      return parsed.messages?.[0]?.from ?? null;
    } catch {
      return null;
    }
  }
  if (path === SNAPSHOT_PATH) {
    try {
      return (JSON.parse(decodeURIComponent(headers.get(SNAPSHOT_META_HEADER) ?? "")) as { from?: string }).from ?? null;
    } catch {
      return null;
    }
  }
  return headers.get(FORWARDED_BY_HEADER);
}
