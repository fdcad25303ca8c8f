/**
 * The body of a replication batch: `{"messages":[...]}` in which every entry's `data` (itself
 * JSON, a command) is replaced by its length, then a newline, then the data of every entry in
 * order. Sent as one JSON document, each command would be escaped into a string on the way out
 * and unescaped on the way in, on every node, for every entry.
 *
 * JSON.stringify never writes a raw newline, so the first one ends the header. A body without
 * one is plain `{"messages":[...]}` with the data inline (what older nodes send). Lengths count
 * UTF-16 code units: the data is well-formed (JSON.stringify output), so the UTF-8 text decodes
 * back to the same strings.
 */
import type { Entry, Message } from "../core";

export const WIRE_CONTENT_TYPE = "application/x-skyclaw-raft-batch";

export function encodeMessages(messages: readonly Message[]): string {
  const data: string[] = [];
  const header = messages.map((message) => {
    if (message.type !== "append" || message.entries.length === 0) return message;
    const entries = message.entries.map((entry) => {
      data.push(entry.data);
      return { index: entry.index, term: entry.term, type: entry.type, data: entry.data.length };
    });
    return { ...message, entries };
  });
  return `${JSON.stringify({ messages: header })}\n${data.join("")}`;
}

/**
 * The batch as the JSON value it stands for, for the caller to validate (the shape is not
 * checked here beyond what finding the data needs). Throws on bad JSON or bad framing.
 */
export function decodeMessages(text: string): unknown {
  const newline = text.indexOf("\n");
  if (newline === -1) return JSON.parse(text);
  const body: unknown = JSON.parse(text.slice(0, newline));
  let offset = newline + 1;
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (Array.isArray(messages)) {
    for (const message of messages) {
      const entries = (message as { entries?: unknown } | null)?.entries;
      if (!Array.isArray(entries)) continue;
      for (const entry of entries as Partial<Record<keyof Entry, unknown>>[]) {
        const length = entry?.data;
        if (typeof length !== "number") continue;
        if (!Number.isSafeInteger(length) || length < 0 || offset + length > text.length) throw new SyntaxError("an entry's data length runs past the body");
        entry.data = text.slice(offset, offset + length);
        offset += length;
      }
    }
  }
  if (offset !== text.length) throw new SyntaxError(`${text.length - offset} characters after the last entry's data`);
  return body;
}
