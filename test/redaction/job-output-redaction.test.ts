/**
 * A real host runs jobs that print their own secrets: what the coordinator stores, what a
 * follower streams and the completion's tails show `[redacted]` instead, whether the secret
 * was written at once or cut across two writes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { REDACTED } from "../../src/host/output-redaction";
import { allOutput, hostConfig, shellJob, startTestCoordinator, startTestHost, stopAll, waitForEnd, type TestCoordinator } from "../host/harness";

const TOKEN = "tok-0123456789-secret";
const PASSWORD = "hunter2-xyz-pw";

let coordinator: TestCoordinator;
beforeAll(async () => {
  coordinator = startTestCoordinator();
  await startTestHost(hostConfig(coordinator.url));
});
afterAll(stopAll);

/** Rows as stored in the coordinator's database. */
const rows = (sql: string, id: string) => coordinator.node.db.query(sql).all(id);

const textOf = (chunks: { stream: string; data: string }[], stream: string) =>
  chunks.filter((chunk) => chunk.stream === stream).map((chunk) => chunk.data).join("");

test("a secret printed in one write is redacted in stored output and in the tails", async () => {
  const job = await coordinator.client.enqueue(
    shellJob(`echo "token is $API_TOKEN"; echo "again:$API_TOKEN!" >&2; echo "short $SHORT_KEY, plain $PLAIN"`, {
      env: { API_TOKEN: TOKEN, SHORT_KEY: "abc", PLAIN: TOKEN.slice(0, 8) },
    }),
  );
  const done = await waitForEnd(coordinator.client, job.id);
  expect(done.state).toBe("succeeded");
  const chunks = await allOutput(coordinator.client, job.id);
  // Values under 4 characters and variables with ordinary names are not touched.
  expect(textOf(chunks, "stdout")).toBe(`token is ${REDACTED}\nshort abc, plain ${TOKEN.slice(0, 8)}\n`);
  expect(textOf(chunks, "stderr")).toBe(`again:${REDACTED}!\n`);
  expect(done.result?.stdoutTail).toBe(`token is ${REDACTED}\nshort abc, plain ${TOKEN.slice(0, 8)}\n`);
  expect(done.result?.stderrTail).toBe(`again:${REDACTED}!\n`);
  expect(JSON.stringify(rows("SELECT data FROM job_output WHERE job_id = ?", job.id))).not.toContain(TOKEN);
  expect(JSON.stringify(rows("SELECT result FROM jobs WHERE id = ?", job.id))).not.toContain(TOKEN);
});

test("a secret cut across two writes (and two output requests) is still redacted", async () => {
  // The halves come from variables with ordinary names: only the whole value is the secret.
  // The pause makes the host read, and stream, the first half on its own.
  const job = await coordinator.client.enqueue(
    shellJob(`printf 'pw=%s' "$HEAD"; sleep 0.3; printf '%s done\\n' "$REST"; printf '%s' "$HEAD" >&2; sleep 0.3; printf '%s\\n' "$REST" >&2`, {
      env: { DB_PASSWORD: PASSWORD, HEAD: PASSWORD.slice(0, 6), REST: PASSWORD.slice(6) },
    }),
  );
  const done = await waitForEnd(coordinator.client, job.id);
  expect(done.state).toBe("succeeded");
  const chunks = await allOutput(coordinator.client, job.id);
  expect(textOf(chunks, "stdout")).toBe(`pw=${REDACTED} done\n`);
  expect(textOf(chunks, "stderr")).toBe(`${REDACTED}\n`);
  expect(done.result?.stdoutTail).toBe(`pw=${REDACTED} done\n`);
  expect(done.result?.stderrTail).toBe(`${REDACTED}\n`);
  const stored = JSON.stringify(rows("SELECT data FROM job_output WHERE job_id = ?", job.id));
  expect(stored).not.toContain(PASSWORD.slice(0, 6));
  expect(stored).not.toContain(PASSWORD.slice(6));
});
