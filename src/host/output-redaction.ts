/**
 * Secrets the job was given do not come back in its output: the values of its environment
 * variables whose names look secret (`*_TOKEN`, `*_KEY`, `*_SECRET`, `*_PASSWORD`, or exactly
 * one of those words) are replaced by `[redacted]` before the output is streamed, stored or
 * kept for the completion's tails.
 *
 * Output arrives in pieces, and a secret can be cut in two by a pipe read. The redactor holds
 * back the end of a piece while it could still be the start of a secret (at most the longest
 * secret's length − 1 characters) and sends it with the next piece or at the end.
 */

export const REDACTED = "[redacted]";

const SECRET_NAME = /(^|_)(TOKEN|KEY|SECRET|PASSWORD)$/i;

/**
 * Shorter values are left alone: redacting "1" or "yes" would mangle ordinary output and
 * hide nothing worth hiding.
 */
export const MIN_SECRET_LENGTH = 4;

/** The values to redact from a job's environment, longest first. */
export function secretValues(env: Record<string, string | undefined>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** One output stream's redaction: `push` each decoded piece in order, then `end` once. */
export class OutputRedactor {
  private carry = "";
  private readonly pattern: RegExp | null;

  /** `secrets` longest first (as secretValues returns them), so the longest one wins where several match. */
  constructor(private readonly secrets: readonly string[]) {
    this.pattern = secrets.length === 0 ? null : new RegExp(secrets.map((secret) => RegExp.escape(secret)).join("|"), "g");
  }

  /** The redacted text that is safe to emit now; the rest waits for the next piece. */
  push(text: string): string {
    if (this.pattern === null) return text;
    const buffer = this.carry + text;
    let held = this.heldFrom(buffer, 0);
    let out = "";
    let emitted = 0;
    for (const match of buffer.matchAll(this.pattern)) {
      // A match in the held end could still grow into a longer secret: decide it next time.
      if (match.index >= held) break;
      out += buffer.slice(emitted, match.index) + REDACTED;
      emitted = match.index + match[0].length;
    }
    if (emitted > held) held = this.heldFrom(buffer, emitted);
    if (held > emitted && isHighSurrogate(buffer.charCodeAt(held - 1))) held--;
    out += buffer.slice(emitted, held);
    this.carry = buffer.slice(held);
    return out;
  }

  /** Everything still held, redacted: call once when the stream has ended. */
  end(text = ""): string {
    const buffer = this.carry + text;
    this.carry = "";
    return this.pattern === null ? buffer : buffer.replace(this.pattern, REDACTED);
  }

  /** Where the longest suffix of `buffer` (starting at `from` or later) that begins some secret starts. */
  private heldFrom(buffer: string, from: number): number {
    let held = buffer.length;
    for (const secret of this.secrets) {
      const first = secret.charAt(0);
      let at = buffer.indexOf(first, Math.max(from, buffer.length - secret.length + 1));
      while (at !== -1 && at < held) {
        if (secret.startsWith(buffer.slice(at))) {
          held = at;
          break;
        }
        at = buffer.indexOf(first, at + 1);
      }
    }
    return held;
  }
}
