/**
 * The lean HTTP/1.1 client the Raft transport and the bench use, against real servers on
 * 127.0.0.1: Bun.serve for well-formed answers, a raw TCP server for the byte-level cases
 * (answers split anywhere, no framing, a peer that hangs up).
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { RawHttpConnection, RawHttpPool } from "../../src/client/raw-http";

const servers: { stop(force?: boolean): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

/** A Bun.serve server that answers with `respond` and records each request's path, body and client port. */
function httpServer(respond: (request: Request, path: string) => Response | Promise<Response>) {
  const seen: { path: string; body: string; clientPort: number; header: string | null }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request, server) {
      const path = new URL(request.url).pathname;
      seen.push({ path, body: await request.text(), clientPort: server.requestIP(request)!.port, header: request.headers.get("x-test") });
      return respond(request, path);
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}`, seen };
}

/** A TCP server that answers every request with `reply(socket)` (raw bytes, any framing). */
function rawServer(reply: (socket: Socket<undefined>) => void): string {
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, chunk) {
        if (chunk.includes("\r\n\r\n")) reply(socket);
      },
    },
  });
  servers.push(listener);
  return `http://127.0.0.1:${listener.port}`;
}

describe("RawHttpConnection", () => {
  test("sends method, path, headers and body, and reads status and body; requests reuse the connection", async () => {
    const server = httpServer((_request, path) => new Response(`answer to ${path} ✓`, { status: path === "/missing" ? 404 : 201 }));
    const connection = await RawHttpConnection.open(server.url);
    const first = await connection.request("POST", "/v1/things", { "x-test": "yes", "content-type": "text/plain" }, "héllo");
    const second = await connection.request("POST", "/missing", {}, "");
    connection.close();

    expect(first).toMatchObject({ status: 201, body: "answer to /v1/things ✓" });
    expect(second).toMatchObject({ status: 404, body: "answer to /missing ✓" });
    expect(server.seen.map(({ path, body, header }) => ({ path, body, header }))).toEqual([
      { path: "/v1/things", body: "héllo", header: "yes" },
      { path: "/missing", body: "", header: null },
    ]);
    expect(server.seen[0]!.clientPort).toBe(server.seen[1]!.clientPort);
  });

  test("a body larger than the socket's buffer goes out whole (the rest is written as the socket drains)", async () => {
    const server = httpServer((request) => new Response(`got ${request.headers.get("content-length")}`));
    const connection = await RawHttpConnection.open(server.url);
    // Multi-byte characters, so bytes and characters differ: 3 × 4 MiB bytes.
    const body = "✓".repeat(4 * 1_048_576);
    const response = await connection.request("POST", "/big", {}, body);
    const small = await connection.request("POST", "/small", {}, "after");
    connection.close();
    expect(response).toMatchObject({ status: 200, body: `got ${3 * 4 * 1_048_576}` });
    expect(small).toMatchObject({ status: 200, body: "got 5" });
    expect(server.seen[0]!.body === body).toBe(true);
  });

  test("answers carry their headers, names in lower case, a repeated one's values joined", async () => {
    const url = rawServer((socket) =>
      socket.write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nVary: a\r\nvary: b\r\nContent-Length: 2\r\n\r\n{}"),
    );
    const connection = await RawHttpConnection.open(url);
    const response = await connection.request("POST", "/", {}, "");
    connection.close();
    expect(response).toEqual({
      status: 503,
      headers: { "content-type": "application/json", "retry-after": "1", vary: "a, b", "content-length": "2" },
      body: "{}",
    });
  });

  test("a binary body goes out byte for byte", async () => {
    const received: Uint8Array[] = [];
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (request) => (received.push(new Uint8Array(await request.arrayBuffer())), new Response("ok")) });
    servers.push(server);
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0xc3]);
    const connection = await RawHttpConnection.open(`http://127.0.0.1:${server.port}`);
    expect(await connection.request("POST", "/", { "content-type": "application/octet-stream" }, bytes)).toMatchObject({ status: 200, body: "ok" });
    connection.close();
    expect(received).toEqual([bytes]);
  });

  test("the answer to a HEAD has no body, whatever its content-length says", async () => {
    const server = httpServer(() => new Response("twelve bytes", { headers: { "x-kind": "text" } }));
    const connection = await RawHttpConnection.open(server.url);
    expect(await connection.request("HEAD", "/", {})).toMatchObject({ status: 200, headers: { "x-kind": "text" }, body: "" });
    expect(await connection.request("POST", "/", {}, "")).toMatchObject({ status: 200, body: "twelve bytes" });
    connection.close();
  });

  test("a path in the URL prefixes every request's path", async () => {
    const server = httpServer(() => new Response("ok"));
    const connection = await RawHttpConnection.open(`${server.url}/skyclaw/`);
    await connection.request("POST", "/v1/replicate/messages", {}, "{}");
    connection.close();
    expect(server.seen.map((request) => request.path)).toEqual(["/skyclaw/v1/replicate/messages"]);
  });

  test("reads a chunked body (chunk extensions too) and an empty 204, and the connection goes on", async () => {
    // Chunk sizes count bytes: "part, second ✓" is 16 (0x10), the check mark taking three.
    const answers = [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst \r\n10;ext=1\r\npart, second ✓\r\n0\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    ];
    const url = rawServer((socket) => socket.write(answers.shift()!));
    const connection = await RawHttpConnection.open(url);
    expect(await connection.request("POST", "/", {}, "")).toMatchObject({ status: 200, body: "first part, second ✓" });
    expect(await connection.request("POST", "/", {}, "")).toMatchObject({ status: 204, body: "" });
    expect(await connection.request("POST", "/", {}, "")).toMatchObject({ status: 200, body: "" });
    connection.close();
  });

  test("a chunk size that is not hexadecimal fails the request", async () => {
    const url = rawServer((socket) => socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"));
    const connection = await RawHttpConnection.open(url);
    await expect(connection.request("POST", "/", {}, "")).rejects.toThrow('a chunk size that is not hexadecimal: "zz"');
  });

  test("an answer that arrives a few bytes at a time is put together", async () => {
    const answer = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";
    const url = rawServer((socket) => {
      let offset = 0;
      const drip = () => {
        socket.write(answer.slice(offset, offset + 7));
        offset += 7;
        if (offset < answer.length) setTimeout(drip, 1);
      };
      drip();
    });
    const connection = await RawHttpConnection.open(url);
    expect(await connection.request("POST", "/", {}, "x")).toMatchObject({ status: 200, body: "hello world" });
    connection.close();
  });

  test("an answer without content-length or chunked encoding fails the request and ends the connection", async () => {
    const url = rawServer((socket) => socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello"));
    const connection = await RawHttpConnection.open(url);
    await expect(connection.request("POST", "/", {}, "x")).rejects.toThrow("a response without content-length or chunked encoding: HTTP/1.1 200 OK");
    expect(connection.closed).toBe(true);
    await expect(connection.request("POST", "/", {}, "x")).rejects.toThrow("without content-length");
  });

  test("a server that hangs up fails the request in flight; close(reason) fails it with that reason", async () => {
    const hangsUp = rawServer((socket) => socket.end());
    const connection = await RawHttpConnection.open(hangsUp);
    await expect(connection.request("POST", "/", {}, "x")).rejects.toThrow("connection closed");
    expect(connection.closed).toBe(true);

    const silent = rawServer(() => {});
    const waiting = await RawHttpConnection.open(silent);
    const request = waiting.request("POST", "/", {}, "x");
    waiting.close(new Error("gave up waiting"));
    await expect(request).rejects.toThrow("gave up waiting");
  });

  test("one request at a time per connection", async () => {
    const url = rawServer(() => {});
    const connection = await RawHttpConnection.open(url);
    const first = connection.request("POST", "/", {}, "x");
    await expect(connection.request("POST", "/", {}, "y")).rejects.toThrow("a request is already in flight on this connection");
    connection.close();
    await expect(first).rejects.toThrow("connection closed by the client");
  });

  test("refuses a URL that is neither http nor https", async () => {
    await expect(RawHttpConnection.open("ftp://127.0.0.1:21")).rejects.toThrow("only http and https URLs are supported");
  });
});

describe("RawHttpPool", () => {
  test("aborting a request's signal ends it with the signal's reason; the pool goes on with a new connection", async () => {
    let connections = 0;
    let answer = false;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: () => void connections++,
        data(socket, chunk) {
          if (answer && chunk.includes("\r\n\r\n")) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        },
      },
    });
    servers.push(listener);
    const pool = new RawHttpPool(`http://127.0.0.1:${listener.port}`);
    const controller = new AbortController();
    const request = pool.request("POST", "/", {}, "", controller.signal);
    controller.abort(new Error("the caller went away"));
    await expect(request).rejects.toThrow("the caller went away");
    await expect(pool.request("POST", "/", {}, "", controller.signal)).rejects.toThrow("the caller went away");
    answer = true;
    expect(await pool.request("POST", "/", {}, "")).toMatchObject({ status: 200, body: "ok" });
    pool.close();
    expect(connections).toBe(2);
  });


  test("opens a connection per concurrent request and reuses idle ones", async () => {
    const server = httpServer(async () => {
      await Bun.sleep(5);
      return new Response("ok");
    });
    const pool = new RawHttpPool(server.url);
    await Promise.all([1, 2, 3].map(() => pool.request("POST", "/", {}, "")));
    await pool.request("POST", "/", {}, "");
    pool.close();
    const ports = server.seen.map((request) => request.clientPort);
    expect(new Set(ports.slice(0, 3)).size).toBe(3);
    expect(ports.slice(0, 3)).toContain(ports[3]!);
  });
});
