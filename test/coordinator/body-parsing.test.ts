/**
 * Bodies are JSON whatever the content-type claims, a POST without a body means `{}`, and a
 * body's integers are JSON numbers (only a query string's are parsed from text).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

let coordinator: TestCoordinator;
beforeAll(() => {
  coordinator = startTestCoordinator();
});
afterAll(stopTestCoordinators);

describe("request bodies", () => {
  test("a JSON body sent as a form (curl -d) is read as JSON", async () => {
    const reply = await coordinator.call("POST", "/v1/jobs", {
      rawBody: '{"kind":"shell","command":"echo"}',
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(reply.status).toBe(201);
    expect(reply.body.spec).toEqual({ kind: "shell", command: "echo" });
  });

  test("a POST without a body is an empty object: cancel works, enqueue names the missing field", async () => {
    const job = (await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "echo" } })).body;
    const cancelled = await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe("cancelled");
    const enqueue = await coordinator.call("POST", "/v1/jobs");
    expect(enqueue.status).toBe(400);
    expect(enqueue.body).toMatchObject({ error: "invalid_request", field: "kind" });
  });

  test("a query value out of range names its parameter", async () => {
    const reply = await coordinator.call("GET", "/v1/jobs?limit=0");
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ error: "invalid_request", field: "limit" });
    expect(reply.body.message).toStartWith("limit: ");
  });

  test("an integer field given as a string is refused and named, in range or not", async () => {
    const jobsBefore = coordinator.rows("SELECT count(*) AS n FROM jobs")[0].n;
    for (const priority of ["5", "5000"]) {
      const reply = await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "echo", priority } });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ error: "invalid_request", field: "priority", message: "priority: must be a number from -1000 to 1000" });
    }
    expect(coordinator.rows("SELECT count(*) AS n FROM jobs")[0].n).toBe(jobsBefore);
    const query = await coordinator.call("GET", "/v1/jobs?limit=5");
    expect(query.status).toBe(200);
  });
});
