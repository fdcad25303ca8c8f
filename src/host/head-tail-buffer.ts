/**
 * Keeps the first `headBytes` and the last `tailBytes` of a stream of text, whatever its
 * length, for the tails a completion reports. Memory stays within head + tail + one piece.
 */
import { utf8Head, utf8Length, utf8Tail } from "./utf8";

export class HeadTailBuffer {
  private head = "";
  private headUsed = 0;
  private tailPieces: { text: string; bytes: number }[] = [];
  private tailUsed = 0;
  /** Bytes seen but kept in neither the head nor the tail. */
  omittedBytes = 0;
  totalBytes = 0;

  constructor(
    private readonly headBytes: number,
    private readonly tailBytes: number,
  ) {}

  append(text: string): void {
    if (text === "") return;
    let bytes = utf8Length(text);
    this.totalBytes += bytes;
    if (this.headUsed < this.headBytes) {
      const taken = utf8Head(text, this.headBytes - this.headUsed);
      const takenBytes = utf8Length(taken);
      this.head += taken;
      this.headUsed += takenBytes;
      // A character that does not fit closes the head, so the head never ends mid-character.
      if (takenBytes < bytes) this.headUsed = this.headBytes;
      text = text.slice(taken.length);
      bytes -= takenBytes;
      if (text === "") return;
    }
    if (bytes > this.tailBytes) {
      const kept = utf8Tail(text, this.tailBytes);
      this.omittedBytes += this.tailUsed + bytes - utf8Length(kept);
      this.tailPieces = [];
      this.tailUsed = 0;
      text = kept;
      bytes = utf8Length(kept);
    }
    this.tailPieces.push({ text, bytes });
    this.tailUsed += bytes;
    this.trimTail();
  }

  get truncated(): boolean {
    return this.omittedBytes > 0;
  }

  /** Head and tail joined; when something was dropped between them, a marker says how much. */
  text(): string {
    const tail = this.tailPieces.map((piece) => piece.text).join("");
    if (!this.truncated) return this.head + tail;
    return `${this.head}\n[skyclaw host: ${this.omittedBytes} bytes of output omitted here]\n${tail}`;
  }

  /** Only the kept tail (what follows the omitted part). */
  tailText(): string {
    return this.tailPieces.map((piece) => piece.text).join("");
  }

  private trimTail(): void {
    while (this.tailUsed > this.tailBytes) {
      const first = this.tailPieces[0]!;
      const excess = this.tailUsed - this.tailBytes;
      if (first.bytes <= excess) {
        this.tailPieces.shift();
        this.tailUsed -= first.bytes;
        this.omittedBytes += first.bytes;
        continue;
      }
      const kept = utf8Tail(first.text, first.bytes - excess);
      const keptBytes = utf8Length(kept);
      this.omittedBytes += first.bytes - keptBytes;
      this.tailUsed -= first.bytes - keptBytes;
      this.tailPieces[0] = { text: kept, bytes: keptBytes };
    }
  }
}
