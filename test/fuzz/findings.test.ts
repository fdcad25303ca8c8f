/**
 * What the fuzzer found, kept as plain cases: each answered 500 or kept the coordinator busy
 * for seconds before the fix.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { errorBody, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "../coordinator/harness";

let coordinator: TestCoordinator;
beforeAll(() => {
  coordinator = startTestCoordinator();
});
afterAll(stopTestCoordinators);

const register = (rawBody: string) => coordinator.call("POST", "/v1/hosts/register", { rawBody });

test("an object that cannot become a string ({toString: 1}) in a string field is a 400 naming the field", async () => {
  for (const version of ['{"toString":1,"valueOf":"x"}', '{"toString":1}', '[{"valueOf":{}}]']) {
    const reply = await register(`{"name":"h","capabilities":[],"slots":1,"version":${version}}`);
    expect(reply.status).toBe(400);
    expect(errorBody(reply)).toMatchObject({ error: "invalid_request", field: "version" });
  }
  expect(coordinator.rows("SELECT id FROM hosts")).toEqual([]);
});

test("a body nested deeper than 64 levels is refused as invalid JSON with the limit in the message", async () => {
  for (const body of ["[".repeat(10_000) + "]".repeat(10_000), '{"a":'.repeat(65) + "1" + "}".repeat(65)]) {
    const reply = await coordinator.call("POST", "/v1/jobs", { rawBody: body });
    expect(reply.status).toBe(400);
    expect(errorBody(reply)).toEqual({ error: "invalid_json", message: "the request body nests arrays and objects deeper than 64 levels" });
  }
  expect(coordinator.rows("SELECT id FROM jobs")).toEqual([]);
});

test("nesting up to the limit, and brackets inside strings, are accepted", async () => {
  const deepEnv = '{"kind":"shell","command":"echo","args":["[[[[{{{{\\"]]]"],"env":{}}';
  expect((await coordinator.call("POST", "/v1/jobs", { rawBody: deepEnv })).status).toBe(201);
  const nested = '{"a":'.repeat(62) + "1" + "}".repeat(62);
  const reply = await coordinator.call("POST", "/v1/jobs", { rawBody: `{"kind":"shell","command":"echo","env":${nested}}` });
  // 64 levels pass the depth check and reach the schema, which wants strings in env.
  expect(reply.status).toBe(400);
  expect(errorBody(reply).field).toStartWith("env");
});
