/** Cutting text by UTF-8 byte counts without splitting a character. */

const isContinuationByte = (byte: number) => (byte & 0xc0) === 0x80;

export const utf8Length = (text: string): number => Buffer.byteLength(text);

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8. */
export function utf8Head(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && isContinuationByte(bytes[end]!)) end--;
  return bytes.subarray(0, end).toString("utf8");
}

/** The longest suffix of `text` that fits in `maxBytes` of UTF-8. */
export function utf8Tail(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - Math.max(0, maxBytes);
  while (start < bytes.length && isContinuationByte(bytes[start]!)) start++;
  return bytes.subarray(start).toString("utf8");
}
