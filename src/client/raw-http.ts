/**
 * A lean HTTP/1.1 keep-alive client: one request at a time per connection (no pipelining), for
 * where the client's own CPU is the cost that matters: Raft batches between coordinators
 * (src/raft/driver/transport.ts) and the bench's load generators.
 *
 * Why not fetch: Bun's fetch costs about 120 µs of CPU per POST on the 2-core development
 * machine, most of it on the calling thread: a tenth of a busy Raft leader's event loop went to
 * sending its batches, and a load generator shares the cores with what it measures. This client
 * writes the request bytes and reads the status line, headers and body: a few µs per request.
 *
 * It reads what an HTTP/1.1 server answers: a body framed by content-length or chunked transfer
 * encoding (no trailers), or none (HEAD, 204, 304). http and https URLs; a path in the URL
 * is a prefix for every request's path (a coordinator published under /skyclaw by a proxy).
 */
import type { Socket } from "bun";

export interface RawResponse {
  status: number;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

interface Waiting {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");
const decoder = new TextDecoder();

/** A body, and the offset in the buffer where its response ends. */
type Framed = { body: string; end: number };

export class RawHttpConnection {
  private socket: Socket<undefined> | null = null;
  /** What arrived of the response being read: chunks, joined only when `needed` bytes are there. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Bytes the response in progress needs before it is worth joining the chunks and reading on. */
  private needed = 0;
  /** Request bytes the socket did not take yet (its buffer was full): written on `drain`. */
  private unsent: Buffer | null = null;
  private waiting: Waiting | null = null;
  /** The request in flight is a HEAD: its answer has headers only, whatever its content-length says. */
  private headRequest = false;
  private closedError: Error | null = null;

  private constructor(
    private readonly hostHeader: string,
    private readonly pathPrefix: string,
  ) {}

  /** Opens a connection to `url` (http:// or https://, host, port, optional path prefix). */
  static async open(url: string): Promise<RawHttpConnection> {
    const parsed = new URL(url);
    const secure = parsed.protocol === "https:";
    if (!secure && parsed.protocol !== "http:") throw new Error(`${url}: only http and https URLs are supported`);
    const connection = new RawHttpConnection(parsed.host, parsed.pathname.replace(/\/+$/, ""));
    // URL.hostname keeps an IPv6 literal's brackets; a socket address has none.
    const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    connection.socket = await Bun.connect({
      hostname,
      port: Number(parsed.port || (secure ? 443 : 80)),
      ...(secure && { tls: { serverName: hostname } }),
      socket: {
        data: (_socket, chunk) => connection.received(chunk),
        drain: () => connection.writeUnsent(),
        close: () => connection.lost(new Error("connection closed")),
        error: (_socket, error) => connection.lost(error),
      },
    });
    connection.socket.setNoDelay(true);
    return connection;
  }

  /** The connection broke or was closed: every request on it fails at once. */
  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends one request and resolves with the whole response; one at a time per connection. */
  request(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<RawResponse> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    if (this.waiting !== null) return Promise.reject(new Error("a request is already in flight on this connection"));
    let head = `${method} ${this.pathPrefix}${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    const payload = body ?? "";
    const payloadBytes = typeof payload === "string" ? Buffer.byteLength(payload) : payload.byteLength;
    head += `content-length: ${payloadBytes}\r\n\r\n`;
    // One write: a string request as one string, a binary one as one buffer.
    const request = typeof payload === "string" ? head + payload : Buffer.concat([Buffer.from(head), payload]);
    this.headRequest = method === "HEAD";
    return new Promise<RawResponse>((resolve, reject) => {
      this.waiting = { resolve, reject };
      // The socket takes what fits in its buffer and says how much: the rest waits for `drain`.
      const written = this.socket!.write(request);
      if (written < 0) this.lost(new Error("connection closed"));
      else if (written < Buffer.byteLength(head) + payloadBytes) this.unsent = Buffer.from(request).subarray(written);
    });
  }

  /** Ends the connection; a request in flight rejects with `reason` (an AbortError by default). */
  close(reason: Error = abortError()): void {
    this.lost(reason);
    this.socket?.end();
  }

  private writeUnsent(): void {
    if (this.unsent === null || this.socket === null) return;
    const written = this.socket.write(this.unsent);
    if (written < 0) return this.lost(new Error("connection closed"));
    this.unsent = written < this.unsent.length ? this.unsent.subarray(written) : null;
  }

  private received(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes < this.needed) return;
    // Joined once per read, not once per chunk: a large body arrives in many chunks.
    const buffered = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [buffered];
    const headerEnd = buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = buffered.toString("latin1", 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const framed = this.frame(buffered, head, status, headerEnd + HEADER_END.length);
    if (framed === null) return; // the rest is still on its way
    if (typeof framed === "string") return this.close(new Error(framed));
    const rest = buffered.subarray(framed.end);
    this.chunks = rest.length === 0 ? [] : [Buffer.from(rest)];
    this.chunkBytes = rest.length;
    this.needed = 0;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve(rawResponse(status, head, framed.body));
  }

  /** The response's body; null while incomplete, a message for a response this client cannot read. */
  private frame(buffered: Buffer, head: string, status: number, bodyStart: number): Framed | string | null {
    if (this.headRequest || status === 204 || status === 304) return { body: "", end: bodyStart };
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length !== null) {
      const end = bodyStart + Number(length[1]);
      if (buffered.length >= end) return { body: decoder.decode(buffered.subarray(bodyStart, end)), end };
      this.needed = end;
      return null;
    }
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) return dechunk(buffered, bodyStart);
    return `a response without content-length or chunked encoding: ${head.split("\r\n")[0]}`;
  }

  private lost(error: Error): void {
    this.closedError ??= error;
    this.unsent = null;
    this.chunks = [];
    this.chunkBytes = 0;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
  }
}

/**
 * Connections to one server, used one request at a time each: a request takes an idle
 * connection or opens one, and gives it back when answered (as fetch's keep-alive pool does).
 */
export class RawHttpPool {
  private readonly idle: RawHttpConnection[] = [];
  private readonly all = new Set<RawHttpConnection>();
  private closed = false;

  constructor(private readonly url: string) {}

  /** `signal`: aborting it ends the request's connection, and the request rejects with its reason. */
  async request(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array, signal?: AbortSignal): Promise<RawResponse> {
    if (this.closed) throw abortError();
    signal?.throwIfAborted();
    let connection = this.idle.pop();
    // One the server closed while it was idle (a keep-alive timeout) is of no use.
    while (connection?.closed) {
      this.all.delete(connection);
      connection = this.idle.pop();
    }
    connection ??= await this.open(signal);
    let response: RawResponse;
    const abort = () => connection.close(reasonOf(signal!));
    signal?.addEventListener("abort", abort, { once: true });
    // Aborted in the turn between opening and here: the request fails on it at once.
    if (signal?.aborted) abort();
    try {
      response = await connection.request(method, path, headers, body);
    } catch (error) {
      this.all.delete(connection);
      connection.close();
      throw error;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
    this.release(connection);
    return response;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.all) connection.close();
    this.all.clear();
    this.idle.length = 0;
  }

  /**
   * A new connection. Aborting `signal` rejects at once, however long connecting takes (a host
   * behind a link that drops packets never refuses); a connection that opens later is kept idle.
   */
  private open(signal?: AbortSignal): Promise<RawHttpConnection> {
    const opening = RawHttpConnection.open(this.url).then((connection) => {
      this.all.add(connection);
      return connection;
    });
    if (signal === undefined) return opening;
    return new Promise((resolve, reject) => {
      const abort = () => {
        reject(reasonOf(signal));
        opening.then((connection) => this.release(connection), () => {});
      };
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      opening.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
    });
  }

  /** A connection whose request is over: idle for the next, or closed with the pool. */
  private release(connection: RawHttpConnection): void {
    if (this.closed) connection.close();
    else this.idle.push(connection);
  }
}

/** A chunked body from `offset` on (no trailers); null while incomplete, a message when malformed. */
function dechunk(buffered: Buffer, offset: number): Framed | string | null {
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = buffered.indexOf(CRLF, offset);
    if (lineEnd < 0) return null;
    const sizeText = buffered.toString("latin1", offset, lineEnd).split(";")[0]!.trim();
    if (!/^[0-9a-f]+$/i.test(sizeText)) return `a chunk size that is not hexadecimal: ${JSON.stringify(sizeText.slice(0, 20))}`;
    const size = Number.parseInt(sizeText, 16);
    const dataStart = lineEnd + CRLF.length;
    // The last chunk is followed (no trailers) by the empty line that ends the body.
    const end = size === 0 ? dataStart + CRLF.length : dataStart + size + CRLF.length;
    if (buffered.length < end) return null;
    if (size === 0) return { body: decoder.decode(Buffer.concat(parts)), end };
    parts.push(buffered.subarray(dataStart, dataStart + size));
    offset = end;
  }
}

/** Headers are parsed when first read: most callers need only the status and the body. */
function rawResponse(status: number, head: string, body: string): RawResponse {
  let headers: Record<string, string> | undefined;
  return {
    status,
    get headers() {
      return (headers ??= parseHeaders(head));
    },
    body,
  };
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

/** What an aborted request fails with: the signal's reason (TimeoutError for AbortSignal.timeout). */
function reasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : abortError();
}

function abortError(): Error {
  const error = new Error("connection closed by the client");
  error.name = "AbortError";
  return error;
}
