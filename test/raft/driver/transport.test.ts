/**
 * PeerTransport against real peers on 127.0.0.1: what a batch carries, one request in flight per
 * peer, answers handed back, and what happens when a peer does not answer or is not there.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import type { Message } from "../../../src/raft/core";
import { MESSAGES_PATH, PEER_TOKEN_HEADER, PeerTransport, REPLY_HEADER } from "../../../src/raft/driver/transport";
import { decodeMessages, encodeMessages, WIRE_CONTENT_TYPE } from "../../../src/raft/driver/wire";

const stoppers: (() => void)[] = [];
afterEach(() => {
  for (const stop of stoppers.splice(0)) stop();
});

function heartbeat(to: string, commit: number): Message {
  return { type: "heartbeat", from: "http://self", to, term: 3, commit, readSeq: 0 };
}

function transport(onReply: (body: string) => void = () => {}, requestTimeoutMs = 2_000) {
  const peers = new PeerTransport({ token: "peer-secret", snapshotPath: (name) => name, onSnapshotFailed: () => {}, onReply, requestTimeoutMs });
  stoppers.push(() => peers.close());
  return peers;
}

/** A peer that answers each batch when the test says so, recording what it received. */
function peer(port = 0) {
  const received: { path: string; headers: Record<string, string | null>; commits: number[]; answer: (body: string) => void }[] = [];
  const server = Bun.serve({
    port,
    hostname: "127.0.0.1",
    async fetch(request) {
      const text = await request.text();
      const batch = decodeMessages(text) as { messages: { commit: number }[] };
      return new Promise<Response>((resolve) => {
        received.push({
          path: new URL(request.url).pathname,
          headers: {
            type: request.headers.get("content-type"),
            token: request.headers.get(PEER_TOKEN_HEADER),
            reply: request.headers.get(REPLY_HEADER),
          },
          commits: batch.messages.map((message) => message.commit),
          answer: (body) => resolve(new Response(body)),
        });
      });
    },
  });
  stoppers.push(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}`, port: server.port, received };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await Bun.sleep(2);
}

describe("PeerTransport", () => {
  test("two batches in flight per peer at most: what queues meanwhile goes together next, and answers reach onReply", async () => {
    const replies: string[] = [];
    const target = peer();
    const peers = transport((body) => replies.push(body));
    peers.send([heartbeat(target.url, 1)]);
    await until(() => target.received.length === 1);
    peers.send([heartbeat(target.url, 2)]);
    await until(() => target.received.length === 2);
    peers.send([heartbeat(target.url, 3)]);
    peers.send([heartbeat(target.url, 4)]);
    // A batch goes out in the call that queues it when fewer than two are out: these two wait.
    expect(peers.stats()[target.url]?.queued).toBe(2);

    const answer = encodeMessages([{ type: "heartbeatResponse", from: target.url, to: "http://self", term: 3, readSeq: 0 } as Message]);
    target.received[0]!.answer(answer);
    await until(() => target.received.length === 3);
    target.received[1]!.answer("");
    target.received[2]!.answer("");
    await until(() => peers.stats()[target.url]?.queued === 0 && replies.length === 1);

    const sent = { path: MESSAGES_PATH, headers: { type: WIRE_CONTENT_TYPE, token: "peer-secret", reply: "1" } };
    expect(target.received.map(({ path, headers, commits }) => ({ path, headers, commits }))).toEqual([
      { ...sent, commits: [1] },
      { ...sent, commits: [2] },
      { ...sent, commits: [3, 4] },
    ]);
    expect(replies).toEqual([answer]);
    expect(peers.stats()[target.url]).toEqual({ queued: 0, dropped: 0, lastError: null });
  });

  test("a peer that takes its connection but never answers: the batch is dropped after the timeout, the next goes on a new connection", async () => {
    let connections = 0;
    let answering = false;
    const listener: TCPSocketListener<undefined> = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: () => void connections++,
        data(socket, chunk) {
          if (answering && chunk.includes("\r\n\r\n")) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        },
      },
    });
    stoppers.push(() => listener.stop(true));
    const url = `http://127.0.0.1:${listener.port}`;
    const peers = transport(() => {}, 150);
    peers.send([heartbeat(url, 1), heartbeat(url, 2)]);
    await until(() => peers.stats()[url]?.lastError !== null && peers.stats()[url]?.lastError !== undefined);
    expect(peers.stats()[url]).toEqual({ queued: 0, dropped: 2, lastError: "timed out" });

    answering = true;
    peers.send([heartbeat(url, 3)]);
    await until(() => peers.stats()[url]?.lastError === null);
    expect(connections).toBe(2);
  });

  test("a peer that is down: the batch is dropped with the error; once it listens, the next batch gets through", async () => {
    const first = peer();
    const { port, url } = first;
    stoppers.shift()!(); // the peer goes away; its port is free again
    const peers = transport();
    peers.send([heartbeat(url, 1)]);
    await until(() => (peers.stats()[url]?.dropped ?? 0) === 1);
    expect(peers.stats()[url]!.lastError).not.toBeNull();

    const back = peer(port);
    peers.send([heartbeat(url, 2)]);
    await until(() => back.received.length === 1);
    back.received[0]!.answer("");
    await until(() => peers.stats()[url]?.lastError === null);
    expect(back.received[0]!.commits).toEqual([2]);
  });
});
