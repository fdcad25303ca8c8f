/**
 * Request bodies as JSON, with a bound on nesting. JSON.parse copes with deep nesting, but
 * the schema check of a deeply nested value does not: a 60 KB body of 10 000 nested arrays
 * kept the coordinator busy for seconds before it was refused. The depth is counted in one
 * pass over the text, before anything is parsed.
 *
 * An object with its own `toString` or `valueOf` key (`{"toString": 1}`) cannot be turned into
 * a string, and Elysia's validation error does exactly that with the value it refuses (the
 * TypeError became a 500). Such objects get a hidden Symbol.toPrimitive: not a key, so neither
 * the schema, JSON.stringify nor the stored data see it.
 */
import { LIMITS } from "../api";
import { HttpError } from "./http-errors";

/** An empty body is `{}`: `curl -X POST …/cancel` sends none, and the schema decides. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return {};
  // Nesting deeper than the limit takes more brackets than a text this short holds.
  if (text.length > LIMITS.jsonDepth && nestingDepth(text) > LIMITS.jsonDepth) {
    throw new HttpError(400, { error: "invalid_json", message: `the request body nests arrays and objects deeper than ${LIMITS.jsonDepth} levels` });
  }
  // A reviver makes JSON.parse call back into JS for every value; skip it when no key can be
  // `toString` or `valueOf` (written out, or spelled with \u escapes).
  if (!mayNameConversionKey(text)) return JSON.parse(text);
  return JSON.parse(text, withSafeStringConversion);
}

function mayNameConversionKey(text: string): boolean {
  return text.includes("toString") || text.includes("valueOf") || text.includes("\\u");
}

function withSafeStringConversion(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && (Object.hasOwn(value, "toString") || Object.hasOwn(value, "valueOf"))) {
    Object.defineProperty(value, Symbol.toPrimitive, { value: () => (Array.isArray(value) ? "[array]" : "[object Object]") });
  }
  return value;
}

/** Deepest `[`/`{` nesting outside strings; stops counting once past the limit. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > deepest && (deepest = depth) > LIMITS.jsonDepth) return deepest;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
