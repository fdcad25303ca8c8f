/** Pools of values a hostile client sends: wrong types, edge numbers, odd strings and ids. */
import type { Prng } from "../sim/prng";

/** Nested arrays `depth` deep, as a value (JSON.stringify handles a few thousand levels). */
export function nestedArray(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

export function nestedObject(depth: number): unknown {
  let value: unknown = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

/** Values that are wrong for almost any field, in type, size or range. */
export function hostileValue(prng: Prng): unknown {
  switch (prng.int(0, 9)) {
    case 0:
      return prng.pick([null, true, false, 0, -0, -1, 1.5, 0.1]);
    case 1:
      return prng.pick([2 ** 53 + 1, -(2 ** 63), 2 ** 64, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 31, -(2 ** 31) - 1]);
    case 2:
      return prng.pick(["", " ", "NaN", "Infinity", "-Infinity", "-1", "1e999", "0x1f", "1_000", "00", "true", "null", "[]", "{}"]);
    case 3:
      return prng.pick(["\u0000", "a\u0000b", "\ud800", "\udfff\ud800", "𝕏🙂", "\u202e", "\r\nx-injected: 1", "'; DROP TABLE jobs;--", "<script>x</script>", "%00", "${x}", "$(id)"]);
    case 4:
      return prng.pick(["../../etc/passwd", "..", "/", "\\\\server\\share", "C:\\Windows", "~root", "./.", "a/../../b"]);
    case 5:
      return "x".repeat(prng.pick([64, 65, 201, 4_097, 16_385, 70_000]));
    case 6:
      return prng.pick([[], {}, [null], [[]], [{}], { "": "" }]);
    case 7:
      return prng.chance(0.5) ? nestedArray(prng.pick([20, 200, 2_000])) : nestedObject(prng.pick([20, 200, 2_000]));
    case 8:
      return prng.pick([{ __proto__: { polluted: 1 } }, JSON.parse('{"__proto__":{"polluted":1}}'), { constructor: { prototype: { polluted: 1 } } }, { toString: 1, valueOf: "x" }]);
    default:
      return Array.from({ length: prng.pick([100, 1_025, 5_000]) }, () => prng.pick(["x", 1, null]));
  }
}

/** Keys a hostile client adds to objects. */
export const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "", " ", "extra", "id", "hostId", "a.b", "0", "\u0000"];

/** Raw number tokens spliced into JSON text: some are not JSON at all, some overflow. */
export const RAW_NUMBER_TOKENS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "00", "0x10", "+1", ".5", "1.", "-", "9999999999999999999999", "1e-999", "-0"];

/** Path segments for `:id`, already percent-encoded where needed: traversal, bad UTF-8, odd characters. */
export const HOSTILE_IDS = [
  "..",
  "...",
  "%2e%2e",
  "..%2f..%2fetc%2fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "..%5c..%5cwindows",
  "%00",
  "a%00b",
  "%E0%A4%A",
  "%FF",
  "%C0%AE",
  "%ED%A0%80",
  "a%20b",
  "%F0%9F%99%82",
  "x".repeat(65),
  "x".repeat(3_000),
  "-leading",
  "_x",
  "a.b",
  "CON",
  "%",
  "%%",
  "%zz",
  "a%2Fb",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "-1",
  "1e999",
  "NaN",
  "%0d%0ax-injected:%201",
  "'%20OR%201=1",
  "%3Cscript%3E",
];
