/**
 * Seeded malformed requests against a list of routes: ids in paths, queries, bodies (from the
 * route's schema, then broken), raw bytes that are not JSON or not UTF-8, and headers.
 * Requests do not depend on earlier answers, so a seed replays the same sequence.
 */
import { TOKEN_HEADER } from "../../src/coordinator/auth";
import { IDEMPOTENCY_HEADER } from "../../src/coordinator/idempotency";
import type { Prng } from "../sim/prng";
import { HOSTILE_IDS, RAW_NUMBER_TOKENS, nestedArray, nestedObject } from "./hostile-values";
import { isWaitField, mutate, validValue, type JsonSchema, type ValueContext } from "./schema-values";

export interface FuzzRoute {
  method: string;
  path: string;
  body?: JsonSchema;
  query?: JsonSchema;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: [string, string][];
  /** Raw bytes, or a stream (sent chunked, with no content-length). */
  body?: Uint8Array | "chunked";
}

export interface GeneratorOptions {
  token: string;
  knownIds: readonly string[];
  /** Bodies above this many bytes are refused from content-length: the fuzzer sends a few. */
  maxBodyBytes: number;
}

const encoder = new TextEncoder();
const OTHER_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "GET", "POST"];
const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=latin1",
  "application/json, text/html",
  "application/xml",
  ";;;",
  "",
];

export function generateRequest(routes: readonly FuzzRoute[], prng: Prng, options: GeneratorOptions): FuzzRequest {
  const route = prng.pick(routes);
  const ctx: ValueContext = { prng, knownIds: options.knownIds };
  const method = prng.chance(0.04) ? prng.pick(OTHER_METHODS) : route.method;
  const path = fillPath(route.path, ctx) + queryString(route, ctx);
  const headers = authHeaders(prng, options.token);
  let body: FuzzRequest["body"];
  if (method !== "GET" && method !== "HEAD" && (route.body !== undefined || prng.chance(0.3))) {
    body = requestBody(route.body, ctx, options.maxBodyBytes);
    if (body !== "chunked") headers.push(["content-type", prng.chance(0.75) ? "application/json" : prng.pick(CONTENT_TYPES)]);
  }
  if (prng.chance(0.15)) headers.push([IDEMPOTENCY_HEADER, idempotencyKey(prng)]);
  if (prng.chance(0.05)) headers.push([IDEMPOTENCY_HEADER, "second-key"]);
  if (prng.chance(0.05)) headers.push([prng.pick(["x-forwarded-for", "x-extra", "accept", "cookie", "x-skyclaw-node"]), prng.pick(["..", "\u00e9", "a".repeat(2_000), "*/*", ""])]);
  return { method, path, headers, ...(body !== undefined && { body }) };
}

function fillPath(pattern: string, ctx: ValueContext): string {
  return pattern.replace(/:[A-Za-z]+/g, () => {
    const roll = ctx.prng.next();
    if (roll < 0.35 && ctx.knownIds.length > 0) return ctx.prng.pick(ctx.knownIds);
    if (roll < 0.45) return `id-${ctx.prng.int(0, 99)}`;
    return ctx.prng.pick(HOSTILE_IDS);
  });
}

function queryString(route: FuzzRoute, ctx: ValueContext): string {
  const { prng } = ctx;
  if (route.query === undefined) return prng.chance(0.1) ? prng.pick(["?a=1&a=2", "?__proto__=x", "?%FF=%FF", "?limit=-1", "?=", "?&&"]) : "";
  let query = validValue(route.query, ctx) as Record<string, unknown>;
  if (prng.chance(0.7)) query = mutate(query, route.query, ctx) as Record<string, unknown>;
  if (query === null || typeof query !== "object") return `?${encodeURIComponent(String(query).slice(0, 2_000).toWellFormed())}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? "";
    // Bun itself answers a request head over 16 KiB with an empty 431, before the app sees it.
    params.append(key.slice(0, 2_000), text.slice(0, 2_000));
    // A repeated parameter becomes an array in Elysia's query object.
    if (prng.chance(0.1)) params.append(key, isWaitField(key) ? "1" : text.slice(0, 100));
  }
  const text = params.toString().slice(0, 8_000);
  return text === "" ? "" : `?${text}`;
}

function authHeaders(prng: Prng, token: string): [string, string][] {
  const roll = prng.next();
  if (roll < 0.8) return [[TOKEN_HEADER, token]];
  if (roll < 0.85) return [["authorization", `Bearer ${token}`]];
  if (roll < 0.9) return [];
  if (roll < 0.93) return [[TOKEN_HEADER, token], [TOKEN_HEADER, token]];
  return [[prng.pick([TOKEN_HEADER, "authorization"]), prng.pick(["", "wrong", `${token}x`, "Bearer", "Basic Zm9vOmJhcg==", token.toUpperCase()])]];
}

function idempotencyKey(prng: Prng): string {
  return prng.pick([`key-${prng.int(0, 50)}`, "", " ", "k".repeat(201), "has space", "tab\tkey", "\u00e9t\u00e9", "k".repeat(200)]);
}

function requestBody(schema: JsonSchema | undefined, ctx: ValueContext, maxBodyBytes: number): FuzzRequest["body"] {
  const { prng } = ctx;
  const value = () => {
    const valid = schema === undefined ? {} : validValue(schema, ctx);
    return prng.chance(0.85) ? mutate(valid, schema, ctx) : valid;
  };
  switch (prng.int(0, 19)) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return encoder.encode(prng.pick([" ", "\n\t ", "null", "0", '"x"', "[]", "true", "{", '{"a":', "[1,2", "{}}", "\u0000", "undefined"]));
    case 2:
      return badUtf8(JSON.stringify(value()) ?? "null", prng);
    case 3:
      return encoder.encode(withRawNumber(JSON.stringify(value()) ?? "0", prng));
    case 4:
      return encoder.encode(withDuplicateKey(value(), prng));
    case 5: {
      const depth = prng.pick([1_000, 10_000, 100_000]);
      return encoder.encode(prng.chance(0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth));
    }
    case 6: {
      // Deep nesting inside an otherwise valid body, where the schema lets any value through.
      const body = (schema === undefined ? {} : validValue(schema, ctx)) as Record<string, unknown>;
      const deep = prng.chance(0.5) ? nestedArray(prng.pick([500, 3_000])) : nestedObject(prng.pick([500, 3_000]));
      const result = typeof body?.result === "object" && body.result !== null ? (body.result as Record<string, unknown>) : undefined;
      if (result !== undefined) result.openclaw = { envelope: deep };
      else if (body !== null && typeof body === "object") body[prng.pick(["env", "args", "x"])] = deep;
      return encoder.encode(JSON.stringify(body));
    }
    case 7:
      return encoder.encode(`{"x":"${"a".repeat(maxBodyBytes + prng.int(1, 100))}"}`);
    case 8:
      return "chunked";
    case 9:
      return encoder.encode(prng.pick(["kind=shell&command=echo", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--", "<job/>"]));
    default:
      return encoder.encode(JSON.stringify(value()) ?? "null");
  }
}

/** JSON bytes with an invalid UTF-8 sequence inside (or instead of) a string. */
function badUtf8(json: string, prng: Prng): Uint8Array {
  const bytes = encoder.encode(json);
  const junk = prng.pick([[0xff], [0xc0, 0x80], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe]]);
  const quote = bytes.indexOf(0x22, prng.int(0, Math.max(0, bytes.length - 1)));
  const at = quote === -1 ? prng.int(0, bytes.length) : quote + 1;
  return new Uint8Array([...bytes.subarray(0, at), ...junk, ...bytes.subarray(at)]);
}

function withRawNumber(json: string, prng: Prng): string {
  const numbers = [...json.matchAll(/(?<=[:\[,])-?\d+(\.\d+)?(e[+-]?\d+)?/gi)];
  const token = prng.pick(RAW_NUMBER_TOKENS);
  if (numbers.length === 0) return json.replace(/^\{/, `{"n":${token},`);
  const match = prng.pick(numbers);
  return json.slice(0, match.index) + token + json.slice(match.index! + match[0].length);
}

/** An object with one key twice: JSON.parse keeps the last, which may be the bad one or the good one. */
function withDuplicateKey(value: unknown, prng: Prng): string {
  const json = JSON.stringify(value) ?? "null";
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.keys(value).length === 0) return `{"a":1,"a":${json}}`;
  const key = prng.pick(Object.keys(value));
  const other = JSON.stringify(prng.pick([null, -1, "x", [], {}, 1e300]));
  const duplicate = `${JSON.stringify(key)}:${other}`;
  return prng.chance(0.5) ? `{${duplicate},${json.slice(1)}` : `${json.slice(0, -1)},${duplicate}}`;
}

/** One line for a failure report: enough to see and replay the request. */
export function describeRequest(request: FuzzRequest): string {
  const body =
    request.body === undefined
      ? "(no body)"
      : request.body === "chunked"
        ? "(chunked stream)"
        : `${request.body.length} bytes: ${JSON.stringify(new TextDecoder().decode(request.body.subarray(0, 400)))}`;
  const headers = request.headers.map(([name, value]) => `${name}: ${value.slice(0, 80)}`).join(" | ");
  return `${request.method} ${request.path.slice(0, 300)} (${request.path.length} characters)\n  headers: ${headers}\n  body: ${body}`;
}
