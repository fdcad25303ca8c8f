/** The nemesis checks on job run records: they find overlaps and double runs, and pass clean histories. */
import { describe, expect, test } from "bun:test";
import type { Job } from "../../src/api";
import { completionViolations, concurrencyViolations, parseRunLog } from "./history";

const ms = (value: number) => `${1_795_000_000 + Math.floor(value / 1_000)}.${String((value % 1_000) * 1_000).padStart(6, "0")}`;
const line = (event: string, host: string, job: string, attempt: number, atMs: number) => `${event} /tmp/n/${host}/jobs/${job}-${attempt} ${ms(atMs)}`;

describe("run history", () => {
  test("attempts one after the other, on different hosts, are clean", () => {
    const history = parseRunLog(
      [line("start", "a", "job_1", 1, 0), line("term", "a", "job_1", 1, 900), line("start", "b", "job_1", 2, 1_000), line("stop", "b", "job_1", 2, 1_300)].join("\n"),
    );
    expect(concurrencyViolations(history)).toEqual([]);
    expect(completionViolations([{ id: "job_1", state: "succeeded", attempt: 2 } as Job], history)).toEqual([]);
  });

  test("an attempt that starts before the previous one ended is an overlap", () => {
    const history = parseRunLog(
      [line("start", "a", "job_1", 1, 0), line("start", "b", "job_1", 2, 500), line("term", "a", "job_1", 1, 900), line("stop", "b", "job_1", 2, 800)].join("\n"),
    );
    expect(concurrencyViolations(history)).toEqual(["job job_1: attempt 2 on /tmp/n/b started while attempt 1 on /tmp/n/a still ran (overlap 400 ms)"]);
  });

  test("an attempt started twice, or with no end, is reported", () => {
    const history = parseRunLog(
      [line("start", "a", "job_1", 1, 0), line("start", "b", "job_1", 1, 10), line("stop", "a", "job_1", 1, 300), line("start", "a", "job_2", 1, 0)].join("\n"),
    );
    expect(concurrencyViolations(history)).toEqual([
      "job job_1: attempt 1 started 2 times",
      "job job_1: attempt 1 ran on 2 hosts (/tmp/n/a, /tmp/n/b)",
      "job job_2: attempt 1 on /tmp/n/a started and never recorded an end",
    ]);
  });

  test("a job that did not succeed, or succeeded with an attempt that never ran to its end, is reported", () => {
    const history = parseRunLog([line("start", "a", "job_1", 1, 0), line("term", "a", "job_1", 1, 100)].join("\n"));
    const jobs = [
      { id: "job_1", state: "succeeded", attempt: 1 },
      { id: "job_2", state: "dead", attempt: 3, lastError: "lease expired" },
    ] as Job[];
    expect(completionViolations(jobs, history)).toEqual([
      "job job_1: succeeded with attempt 1, but that attempt has no recorded run to the end",
      "job job_2: dead after attempt 3 (lease expired)",
    ]);
  });
});
