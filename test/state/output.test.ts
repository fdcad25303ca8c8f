/** appendOutput: chunks stored in order; past maxOutputBytes a head, one marker and a rolling tail are kept. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { OutputStream } from "../../src/api";
import { appendOutput, Harness, leasedJob, T0 } from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

const stdout = (data: string) => ({ stream: "stdout" as OutputStream, data });
const byteLength = (text: string) => Buffer.byteLength(text);

/** What the stored output of a job must always satisfy, whatever was appended. */
function expectStoredOutputWithinCap(jobId: string, maxOutputBytes: number) {
  const chunks = h.output(jobId);
  const payload = chunks.filter((chunk) => chunk.stream !== "system");
  const storedBytes = payload.reduce((sum, chunk) => sum + byteLength(chunk.data), 0);
  expect(storedBytes).toBeLessThanOrEqual(maxOutputBytes);
  expect(h.job(jobId).output_bytes).toBe(storedBytes);
  expect(chunks.filter((chunk) => chunk.stream === "system").length).toBeLessThanOrEqual(1);
  const seqs = chunks.map((chunk) => chunk.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  return chunks;
}

describe("appendOutput", () => {
  test("refuses an unknown job with not_found and changes nothing", () => {
    const lease = leasedJob(h);
    h.refusedWithoutChange(appendOutput({ ...lease, jobId: "nope" }), "not_found");
  });

  test("stores the chunks in order after the job's last chunk, with attempt, stream and time", () => {
    const lease = leasedJob(h);
    const first = h.ok(appendOutput({ ...lease, at: T0 + 1, chunks: [stdout("one\n"), { stream: "stderr", data: "two\n" }] }));
    expect(first).toEqual({ accepted: 2, truncated: false });
    h.ok(appendOutput({ ...lease, at: T0 + 2, chunks: [stdout("thrée\n")] }));
    expect(h.output(lease.jobId)).toEqual([
      { seq: 1, attempt: 1, stream: "stdout", data: "one\n", at: T0 + 1 },
      { seq: 2, attempt: 1, stream: "stderr", data: "two\n", at: T0 + 1 },
      { seq: 3, attempt: 1, stream: "stdout", data: "thrée\n", at: T0 + 2 },
    ]);
    expect(h.job(lease.jobId)).toMatchObject({ output_seq: 3, output_bytes: 15, output_truncated: 0, output_marker_seq: null });
  });

  test("past the cap keeps the head, writes one system marker, and keeps the latest chunks as the tail", () => {
    const lease = leasedJob(h);
    const maxOutputBytes = 100;
    const line = (n: number) => `line ${String(n).padStart(3, "0")}\n`; // 9 bytes
    let n = 0;
    let lastResponse: { accepted: number; truncated: boolean } | undefined;
    for (let request = 0; request < 20; request++) {
      const chunks = Array.from({ length: 3 }, () => stdout(line(n++)));
      lastResponse = h.ok(appendOutput({ ...lease, at: T0 + request, chunks, maxOutputBytes }));
      expectStoredOutputWithinCap(lease.jobId, maxOutputBytes);
    }
    expect(lastResponse).toEqual({ accepted: 3, truncated: true });

    const chunks = h.output(lease.jobId);
    const markerIndex = chunks.findIndex((chunk) => chunk.stream === "system");
    expect(chunks[markerIndex]!.data).toContain("output truncated");
    const head = chunks.slice(0, markerIndex).map((chunk) => chunk.data);
    const tail = chunks.slice(markerIndex + 1).map((chunk) => chunk.data);
    // Head: as many of the first lines as fit in half the cap (5 × 9 = 45 ≤ 50).
    expect(head).toEqual([0, 1, 2, 3, 4].map(line));
    // Tail: the most recent lines, contiguous, ending with the very last one.
    const tailNumbers = tail.map((data) => Number(data.slice(5, 8)));
    expect(tailNumbers.at(-1)).toBe(n - 1);
    expect(tailNumbers).toEqual(tailNumbers.map((_, i) => n - tailNumbers.length + i));
    expect(byteLength(head.join("")) + byteLength(tail.join(""))).toBeGreaterThan(maxOutputBytes - 9);
    expect(h.job(lease.jobId)).toMatchObject({ output_truncated: 1, output_marker_seq: chunks[markerIndex]!.seq });
  });

  test("counts bytes, not characters", () => {
    const lease = leasedJob(h);
    const wide = "é".repeat(20); // 40 bytes
    h.ok(appendOutput({ ...lease, chunks: [stdout(wide), stdout(wide)], maxOutputBytes: 100 }));
    h.ok(appendOutput({ ...lease, chunks: [stdout(wide), stdout(wide)], maxOutputBytes: 100 }));
    const chunks = expectStoredOutputWithinCap(lease.jobId, 100);
    expect(chunks.map((chunk) => chunk.stream)).toEqual(["stdout", "system", "stdout"]);
    expect(h.job(lease.jobId).output_bytes).toBe(80);
  });

  test("a chunk larger than the tail keeps its last bytes, cut on a character boundary", () => {
    const lease = leasedJob(h);
    const maxOutputBytes = 1_024;
    h.ok(appendOutput({ ...lease, chunks: [stdout("head\n")], maxOutputBytes }));
    h.ok(appendOutput({ ...lease, chunks: [stdout("x".repeat(600))], maxOutputBytes }));
    const huge = "€".repeat(1_000) + "THE END\n"; // 3,008 bytes, far more than the 512-byte tail
    h.ok(appendOutput({ ...lease, chunks: [stdout(huge)], maxOutputBytes }));
    const chunks = expectStoredOutputWithinCap(lease.jobId, maxOutputBytes);
    const last = chunks.at(-1)!;
    expect(last.stream).toBe("stdout");
    expect(last.data.endsWith("€THE END\n")).toBe(true);
    expect(huge.endsWith(last.data)).toBe(true);
    expect(byteLength(last.data)).toBeLessThanOrEqual(maxOutputBytes - maxOutputBytes / 2);
    expect(byteLength(last.data)).toBeGreaterThan(maxOutputBytes / 2 - 3);
    expect(chunks[0]!.data).toBe("head\n");
  });
});
