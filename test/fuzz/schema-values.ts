/**
 * Values built from a route's own JSON schema (what Elysia keeps in `route.hooks.body/query`),
 * so a new route or field is fuzzed without touching the fuzzer: a mostly valid value first,
 * then mutations that break it in one place.
 */
import type { Prng } from "../sim/prng";
import { HOSTILE_KEYS, hostileValue } from "./hostile-values";

export interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxProperties?: number;
}

/**
 * Long-poll fields (claim and output `waitMs`) get small valid values: the fuzzer sends its
 * requests one at a time, and a valid 60 s wait would stall it.
 */
export const isWaitField = (name: string) => /wait/i.test(name);

export interface ValueContext {
  prng: Prng;
  /** Ids of real hosts and jobs: a valid-looking request should sometimes name one. */
  knownIds: readonly string[];
}

/** Strings tried against a `pattern`; the first few that match are the candidates. */
const PATTERN_CANDIDATES = ["shell", "openclaw", "gpu", "a", "abc-1", "x_y.z", "5", "42", "queued", "true", "false", "http://127.0.0.1:9", "https://example.test"];

export function validValue(schema: JsonSchema, ctx: ValueContext, name = ""): unknown {
  const { prng } = ctx;
  if (schema.const !== undefined) return schema.const;
  if (schema.anyOf !== undefined) return validValue(prng.pick(schema.anyOf), ctx, name);
  switch (schema.type) {
    case "object":
      return validObject(schema, ctx);
    case "array": {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 3, min + 3);
      return Array.from({ length: prng.int(min, max) }, () => validValue(schema.items ?? {}, ctx, name));
    }
    case "string":
      return validString(schema, ctx, name);
    case "integer":
    case "number":
      return validNumber(schema, ctx, name);
    case "boolean":
      return prng.chance(0.5);
    case "null":
      return null;
    default:
      return prng.pick([1, "x", { k: "v" }, [1, 2], null, true]);
  }
}

function validObject(schema: JsonSchema, ctx: ValueContext): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (required.has(key) || ctx.prng.chance(0.5)) value[key] = validValue(child, ctx, key);
  }
  for (const [pattern, child] of Object.entries(schema.patternProperties ?? {})) {
    const count = ctx.prng.int(0, Math.min(3, schema.maxProperties ?? 3));
    for (let i = 0; i < count; i++) value[matchingString(pattern, ctx) ?? `K${i}`] = validValue(child, ctx);
  }
  return value;
}

function validString(schema: JsonSchema, ctx: ValueContext, name: string): string {
  const { prng } = ctx;
  if (schema.format === "integer" || schema.format === "numeric") return String(validNumber(schema, ctx, name));
  if (schema.pattern !== undefined) return matchingString(schema.pattern, ctx) ?? "x";
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 24, Math.max(min, 24));
  return "abcdefghij".repeat(3).slice(0, prng.int(min, max));
}

function matchingString(pattern: string, ctx: ValueContext): string | undefined {
  const regex = new RegExp(pattern);
  const candidates = [...ctx.knownIds, ...PATTERN_CANDIDATES, `id${ctx.prng.int(0, 999)}`].filter((candidate) => regex.test(candidate));
  return candidates.length === 0 ? undefined : ctx.prng.pick(candidates);
}

function validNumber(schema: JsonSchema, ctx: ValueContext, name: string): number {
  const bounds = numericBounds(schema);
  const min = bounds.minimum ?? 0;
  const max = isWaitField(name) ? Math.min(bounds.maximum ?? 20, min + 20) : (bounds.maximum ?? min + 1_000);
  return ctx.prng.chance(0.3) ? ctx.prng.pick([min, max]) : ctx.prng.int(min, Math.min(max, min + 1_000));
}

/** Elysia spreads an integer field into `anyOf [numeric string, integer]` and keeps the bounds on the parent. */
function numericBounds(schema: JsonSchema): { minimum?: number; maximum?: number } {
  const option = schema.anyOf?.find((candidate) => candidate.minimum !== undefined || candidate.maximum !== undefined);
  return { minimum: schema.minimum ?? option?.minimum, maximum: schema.maximum ?? option?.maximum };
}

/** Breaks `value` in one place (a random node of its tree); returns the new value. */
export function mutate(value: unknown, schema: JsonSchema | undefined, ctx: ValueContext): unknown {
  const { prng } = ctx;
  const nodes = collectNodes(value, schema);
  const target = prng.pick(nodes);
  const replacement = mutation(target, ctx);
  if (target.set === undefined) return replacement.value;
  if (replacement.remove) target.remove?.();
  else target.set(replacement.value);
  return value;
}

interface Node {
  value: unknown;
  schema: JsonSchema | undefined;
  name: string;
  set?: (value: unknown) => void;
  remove?: () => void;
}

function collectNodes(root: unknown, rootSchema: JsonSchema | undefined): Node[] {
  const nodes: Node[] = [{ value: root, schema: rootSchema, name: "" }];
  const visit = (value: unknown, schema: JsonSchema | undefined, depth: number) => {
    if (depth > 6 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        nodes.push({ value: item, schema: schema?.items, name: String(index), set: (next) => (value[index] = next), remove: () => value.splice(index, 1) });
        visit(item, schema?.items, depth + 1);
      });
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = schema?.properties?.[key] ?? Object.values(schema?.patternProperties ?? {})[0];
      nodes.push({ value: record[key], schema: child, name: key, set: (next) => (record[key] = next), remove: () => delete record[key] });
      visit(record[key], child, depth + 1);
    }
  };
  visit(root, rootSchema, 0);
  return nodes;
}

function mutation(node: Node, ctx: ValueContext): { value?: unknown; remove?: boolean } {
  const { prng } = ctx;
  const value = node.value;
  switch (prng.int(0, 7)) {
    case 0:
      return { remove: true };
    case 1:
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        return { value: { ...value, [prng.pick(HOSTILE_KEYS)]: hostileValue(prng) } };
      }
      return { value: hostileValue(prng) };
    case 2: {
      // Just outside the schema's bounds, or a wrong type of the right "shape".
      const bounds = node.schema === undefined ? {} : numericBounds(node.schema);
      const edges = [bounds.minimum === undefined ? -1 : bounds.minimum - 1, bounds.maximum === undefined ? 2 ** 53 : bounds.maximum + 1];
      if (!isWaitField(node.name) && bounds.maximum !== undefined) edges.push(bounds.maximum);
      return { value: prng.pick([...edges, (bounds.minimum ?? 0) + 0.5, String(prng.pick(edges))]) };
    }
    case 3:
      if (typeof value === "string") {
        const over = (node.schema?.maxLength ?? 64) + 1;
        return { value: prng.pick([value.repeat(Math.ceil(over / Math.max(1, value.length))) + "x", "", ` ${value}`, `${value}\u0000`, value.toUpperCase() + "!"]) };
      }
      return { value: hostileValue(prng) };
    case 4:
      if (Array.isArray(value)) {
        const over = (node.schema?.maxItems ?? 64) + 1;
        return { value: Array.from({ length: over }, (_, index) => value[index % Math.max(1, value.length)] ?? "x") };
      }
      return { value: [value] };
    case 5:
      return { value: typeof value === "number" ? String(value) : typeof value === "string" && value !== "" ? Number(value) || value.length : null };
    default:
      return { value: hostileValue(prng) };
  }
}
