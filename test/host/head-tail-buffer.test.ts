/** The per-stream head + tail a completion reports: bounded, whole characters, truncation counted. */
import { describe, expect, test } from "bun:test";
import { HeadTailBuffer } from "../../src/host/head-tail-buffer";
import { utf8Head, utf8Tail } from "../../src/host/utf8";

describe("HeadTailBuffer", () => {
  test("keeps everything while it fits", () => {
    const buffer = new HeadTailBuffer(8, 8);
    for (const piece of ["abc", "def", "ghij"]) buffer.append(piece);
    expect(buffer.text()).toBe("abcdefghij");
    expect(buffer.truncated).toBe(false);
  });

  test("keeps the first and last bytes and says how many were dropped", () => {
    const buffer = new HeadTailBuffer(4, 6);
    for (let index = 0; index < 100; index++) buffer.append(String(index % 10));
    expect(buffer.totalBytes).toBe(100);
    expect(buffer.omittedBytes).toBe(90);
    expect(buffer.text()).toBe("0123\n[skyclaw host: 90 bytes of output omitted here]\n456789");
    expect(buffer.tailText()).toBe("456789");
  });

  test("a single huge piece keeps its start and end", () => {
    const buffer = new HeadTailBuffer(5, 5);
    buffer.append(`start${"x".repeat(1_000_000)}end!!`);
    expect(buffer.text()).toBe("start\n[skyclaw host: 1000000 bytes of output omitted here]\nend!!");
  });

  test("never cuts a character, so no replacement character appears", () => {
    const buffer = new HeadTailBuffer(5, 5);
    for (let index = 0; index < 50; index++) buffer.append("€😀");
    const text = buffer.text();
    expect(text).not.toContain("\uFFFD");
    expect(text.startsWith("€")).toBe(true);
    expect(text.endsWith("😀")).toBe(true);
    expect(buffer.totalBytes).toBe(50 * 7);
  });
});

describe("utf8Head / utf8Tail", () => {
  test.each([0, 1, 2, 3, 4, 5, 6, 7, 8])("cut at %i bytes lands on a character boundary", (bytes) => {
    const text = "a€😀b";
    const head = utf8Head(text, bytes);
    const tail = utf8Tail(text, bytes);
    expect(Buffer.byteLength(head)).toBeLessThanOrEqual(bytes);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(bytes);
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
  });
});
