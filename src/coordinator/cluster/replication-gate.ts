/**
 * The replication endpoints, answered before the app's own routing: `POST /v1/replicate/messages`
 * (a batch of Raft messages for this node, framed by wire.ts; answered with this node's messages
 * for the sender once the batch is durable here, when the sender asks) and `POST
 * /v1/replicate/snapshot` (an image as the raw body, its message in a header). Only the peer
 * secret opens them: a host or client token does not, and the client body limit does not apply
 * (a batch of entries can exceed it).
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ReplicateMessagesBody, ReplicateSnapshotMeta } from "../../api";
import type { Message, SnapshotMessage } from "../../raft/core";
import { MESSAGES_PATH, PEER_TOKEN_HEADER, REPLY_HEADER, SNAPSHOT_META_HEADER, SNAPSHOT_PATH } from "../../raft/driver/transport";
import { decodeMessages, WIRE_CONTENT_TYPE } from "../../raft/driver/wire";
import { tokenMatches } from "../auth";
import type { ClusterRuntime } from "./cluster-runtime";

const REPLICATE_PREFIX = "/v1/replicate/";
const MAX_MESSAGES_BYTES = 256 * 1_048_576;

const messagesCheck = TypeCompiler.Compile(ReplicateMessagesBody);
const snapshotCheck = TypeCompiler.Compile(ReplicateSnapshotMeta);

export function isReplicationPath(path: string): boolean {
  return path.startsWith(REPLICATE_PREFIX);
}

/** Answers a request under /v1/replicate/ entirely; `null` for any other path. */
export async function handleReplication(request: Request, path: string, runtime: ClusterRuntime | undefined): Promise<Response | null> {
  if (!isReplicationPath(path)) return null;
  if (runtime === undefined) return json(404, { error: "not_found", message: "this coordinator runs alone (no SKYCLAW_PEER_URLS): it has no replication endpoints" });
  const peerToken = runtime.config.cluster.peerToken;
  if (peerToken !== undefined && !tokenMatches(peerToken, request.headers.get(PEER_TOKEN_HEADER) ?? undefined)) {
    return json(401, { error: "unauthorized", message: `replication needs the peer secret (SKYCLAW_PEER_TOKEN) in the ${PEER_TOKEN_HEADER} header` });
  }
  if (request.method !== "POST") return json(405, { error: "method_not_allowed", message: `${path} takes POST` });
  if (path === MESSAGES_PATH) {
    if (Number(request.headers.get("content-length") ?? 0) > MAX_MESSAGES_BYTES) {
      return json(413, { error: "body_too_large", message: `a replication batch is limited to ${MAX_MESSAGES_BYTES} bytes` });
    }
    const batch = parseBatch(await request.text());
    if (typeof batch === "string") return json(400, { error: batch === INVALID_JSON ? "invalid_json" : "invalid_request", message: batch });
    const handled = runtime.proposer.receive(batch);
    const from = batch[0]?.from;
    if (request.headers.get(REPLY_HEADER) === null || from === undefined || batch.some((message) => message.from !== from)) return json(200, { ok: true });
    return new Response(await runtime.transport.replyTo(from, handled), { status: 200, headers: { "content-type": WIRE_CONTENT_TYPE } });
  }
  if (path === SNAPSHOT_PATH) {
    let meta: unknown;
    try {
      meta = JSON.parse(decodeURIComponent(request.headers.get(SNAPSHOT_META_HEADER) ?? ""));
    } catch {
      return json(400, { error: "invalid_request", field: SNAPSHOT_META_HEADER, message: `${SNAPSHOT_META_HEADER}: must be the snapshot message as URI-encoded JSON` });
    }
    if (!snapshotCheck.Check(meta)) return json(400, { error: "invalid_request", field: SNAPSHOT_META_HEADER, message: describeFirst(snapshotCheck.Errors(meta)) });
    const image = new Uint8Array(await request.arrayBuffer());
    if (image.byteLength === 0) return json(400, { error: "invalid_request", message: "the snapshot image (the request body) is empty" });
    await runtime.proposer.receiveSnapshot(meta as SnapshotMessage, image);
    return json(200, { ok: true });
  }
  return json(404, { error: "not_found", message: `no route POST ${path}` });
}

const INVALID_JSON = "the request body is not a batch of Raft messages (JSON, or the framing of wire.ts)";

/** The messages of a batch (a request's, or a reply's), or why it is not a valid batch. */
export function parseBatch(text: string): Message[] | string {
  let body: unknown;
  try {
    body = decodeMessages(text);
  } catch {
    return INVALID_JSON;
  }
  if (!messagesCheck.Check(body)) return describeFirst(messagesCheck.Errors(body));
  return body.messages as Message[];
}

function describeFirst(errors: Iterable<{ path: string; message: string }>): string {
  for (const error of errors) return `${error.path.replace(/^\//, "").replaceAll("/", ".") || "body"}: ${error.message}`;
  return "the body is not valid";
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
