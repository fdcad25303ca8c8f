/**
 * A lean HTTP/1.1 keep-alive client for the load generators: one request at a time per
 * connection, as a client that waits for its answer sends them (no pipelining).
 *
 * Why not fetch: on a 2-core machine the load generator shares the CPU with the coordinator it
 * measures, and Bun's fetch costs about as much CPU per request as the coordinator spends
 * answering it (measured: ~120 µs per POST), so half the machine went to the clients. Real
 * clients run on other machines. This client writes the request bytes and reads the status
 * line, content-length and body: a few µs per request, so the coordinator gets the CPU.
 *
 * It speaks only what the coordinator answers: a status line, headers with content-length
 * (no chunked responses), a body.
 */
import type { Socket } from "bun";

export interface RawResponse {
  status: number;
  body: string;
}

interface Waiting {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const decoder = new TextDecoder();

export class RawHttpConnection {
  private socket: Socket<undefined> | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: Waiting | null = null;
  private closedError: Error | null = null;

  private constructor(private readonly hostHeader: string) {}

  /** Opens a connection to `url` (http://host:port). */
  static async open(url: string): Promise<RawHttpConnection> {
    const { hostname, port, host } = new URL(url);
    const connection = new RawHttpConnection(host);
    connection.socket = await Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        data: (_socket, chunk) => connection.received(chunk),
        close: () => connection.lost(new Error("connection closed")),
        error: (_socket, error) => connection.lost(error),
      },
    });
    connection.socket.setNoDelay(true);
    return connection;
  }

  /** Sends one request and resolves with the whole response; one at a time per connection. */
  request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    if (this.waiting !== null) return Promise.reject(new Error("a request is already in flight on this connection"));
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    const payload = body === undefined ? "" : body;
    head += `content-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;
    return new Promise<RawResponse>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket!.write(head);
    });
  }

  /** Ends the connection; a request in flight rejects with an AbortError. */
  close(): void {
    this.lost(abortError());
    this.socket?.end();
  }

  private received(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.toString("latin1", 0, headerEnd);
    const lengthMatch = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (lengthMatch === null) return this.lost(new Error(`response without content-length: ${head.split("\r\n")[0]}`));
    const bodyStart = headerEnd + HEADER_END.length;
    const bodyEnd = bodyStart + Number(lengthMatch[1]);
    if (this.buffered.length < bodyEnd) return;
    const status = Number(head.slice(9, 12));
    const body = decoder.decode(this.buffered.subarray(bodyStart, bodyEnd));
    this.buffered = this.buffered.length === bodyEnd ? Buffer.alloc(0) : Buffer.from(this.buffered.subarray(bodyEnd));
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ status, body });
  }

  private lost(error: Error): void {
    this.closedError ??= error;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
  }
}

/**
 * Connections to one coordinator, used one request at a time each: a request takes an idle
 * connection or opens one, and gives it back when answered (as fetch's keep-alive pool does).
 */
export class RawHttpPool {
  private readonly idle: RawHttpConnection[] = [];
  private readonly all = new Set<RawHttpConnection>();
  private closed = false;

  constructor(private readonly url: string) {}

  async request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
    if (this.closed) throw abortError();
    const connection = this.idle.pop() ?? (await this.open());
    let response: RawResponse;
    try {
      response = await connection.request(method, path, headers, body);
    } catch (error) {
      this.all.delete(connection);
      connection.close();
      throw error;
    }
    if (this.closed) connection.close();
    else this.idle.push(connection);
    return response;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.all) connection.close();
    this.all.clear();
    this.idle.length = 0;
  }

  private async open(): Promise<RawHttpConnection> {
    const connection = await RawHttpConnection.open(this.url);
    this.all.add(connection);
    return connection;
  }
}

function abortError(): Error {
  const error = new Error("connection closed by the client");
  error.name = "AbortError";
  return error;
}
