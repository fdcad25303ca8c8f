/**
 * The replication batch framing: entries' data travels unescaped after a JSON header and comes
 * back as the same strings, whatever they contain; a plain JSON batch (older nodes) still
 * decodes; a body whose lengths do not add up is refused.
 */
import { expect, test } from "bun:test";
import type { Message } from "../../../src/raft/core";
import { decodeMessages, encodeMessages } from "../../../src/raft/driver/wire";

const append = (data: string[]): Message => ({
  type: "append",
  from: "http://a",
  to: "http://b",
  term: 3,
  prevIndex: 9,
  prevTerm: 2,
  commit: 8,
  entries: data.map((text, i) => ({ index: 10 + i, term: 3, type: i === 0 ? "noop" : "normal", data: text })),
});

test("a batch decodes to the messages it was encoded from, data byte for byte", () => {
  const messages: Message[] = [
    append(["", JSON.stringify({ command: "line\nbreak \"quoted\" \\ back" }), JSON.stringify({ text: "émoji 🦀 \u2028 \u0000" }), "{}"]),
    { type: "heartbeat", from: "http://a", to: "http://b", term: 3, commit: 8, readSeq: 4 },
    append([]),
  ];
  const encoded = encodeMessages(messages);
  // Not escaped again: each command appears in the body exactly as it is stored.
  for (const entry of (messages[0] as Extract<Message, { type: "append" }>).entries) expect(encoded).toContain(entry.data);
  expect(decodeMessages(new TextDecoder().decode(new TextEncoder().encode(encoded)))).toEqual({ messages });
  expect(decodeMessages(encodeMessages([]))).toEqual({ messages: [] });
});

test("a plain JSON batch, as older nodes send it, decodes as it is", () => {
  const messages = [append(["{\"a\":1}"])];
  expect(decodeMessages(JSON.stringify({ messages }))).toEqual({ messages });
});

test("data lengths that do not match the body are refused", () => {
  const encoded = encodeMessages([append(["{\"a\":1}", "{\"b\":2}"])]);
  expect(() => decodeMessages(encoded.slice(0, -1))).toThrow(SyntaxError);
  expect(() => decodeMessages(`${encoded}x`)).toThrow(SyntaxError);
  expect(() => decodeMessages(encoded.replace('"data":7', '"data":-1'))).toThrow(SyntaxError);
  expect(() => decodeMessages("{not json\n")).toThrow(SyntaxError);
});
