/** `/openapi.json` and the dashboard's pages over HTTP: public, self-contained, and describing every API route. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestCoordinator, stopAll, type TestCoordinator } from "../host/harness";

const TOKEN = "pages-test-token";

type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> };
  responses?: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
};
type Document = { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>> };

let coordinator: TestCoordinator;
let document: Document;

beforeAll(async () => {
  coordinator = startTestCoordinator({ SKYCLAW_TOKEN: TOKEN });
  const response = await fetch(`${coordinator.url}/openapi.json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});
afterAll(stopAll);

const operation = (method: string, path: string): Operation => {
  const found = document.paths[path]?.[method];
  if (found === undefined) throw new Error(`${method.toUpperCase()} ${path} is not in /openapi.json`);
  return found;
};

describe("/openapi.json", () => {
  test("is served without a token while the API itself still asks for one", async () => {
    expect(document.openapi).toBe("3.1.2");
    expect(document.info.title).toBe("Skyclaw API");
    const state = await fetch(`${coordinator.url}/v1/state`);
    expect(state.status).toBe(401);
  });

  test("lists every job, host and system route with a summary and a tag", () => {
    const expected: [string, string][] = [
      ["get", "/health"],
      ["get", "/v1/state"],
      ["post", "/v1/hosts/register"],
      ["post", "/v1/hosts/{id}/heartbeat"],
      ["post", "/v1/hosts/{id}/claim"],
      ["post", "/v1/hosts/{id}/drain"],
      ["get", "/v1/hosts"],
      ["get", "/v1/hosts/{id}"],
      ["post", "/v1/jobs"],
      ["get", "/v1/jobs"],
      ["get", "/v1/jobs/{id}"],
      ["get", "/v1/jobs/{id}/output"],
      ["post", "/v1/jobs/{id}/cancel"],
      ["post", "/v1/jobs/{id}/renew"],
      ["post", "/v1/jobs/{id}/output"],
      ["post", "/v1/jobs/{id}/complete"],
    ];
    for (const [method, path] of expected) {
      const { summary, tags } = operation(method, path);
      expect({ path, summary: typeof summary, tags: tags?.length }).toEqual({ path, summary: "string", tags: 1 });
    }
    expect(operation("get", "/health").security).toEqual([]);
    expect(Object.keys(document.paths)).not.toContain("/ui");
  });

  test("describes request bodies, query parameters and responses from the TypeBox schemas", () => {
    const enqueue = operation("post", "/v1/jobs");
    const body = enqueue.requestBody?.content["application/json"]?.schema;
    expect(body?.required).toEqual(["kind"]);
    expect(Object.keys(body?.properties ?? {})).toEqual(expect.arrayContaining(["kind", "command", "args", "requires", "priority"]));
    const created = enqueue.responses?.["201"]?.content?.["application/json"]?.schema;
    expect(Object.keys(created?.properties ?? {})).toEqual(expect.arrayContaining(["id", "state", "attempt"]));

    // Newer view fields are optional and nullable, so clients built from an older document still accept answers.
    type ObjectSchema = { required?: string[]; properties?: Record<string, { anyOf?: { type?: string }[]; properties?: any; items?: ObjectSchema }> };
    const job = operation("get", "/v1/jobs/{id}").responses?.["200"]?.content?.["application/json"]?.schema as ObjectSchema;
    expect(job.properties?.submitter?.anyOf?.map((option) => option.type)).toEqual(["string", "null"]);
    expect(job.required).not.toContain("submitter");
    const hosts = operation("get", "/v1/hosts").responses?.["200"]?.content?.["application/json"]?.schema as ObjectSchema;
    const host = hosts.properties?.hosts?.items as ObjectSchema;
    expect(host.properties?.revokedAt?.anyOf?.map((option) => option.type)).toContain("null");
    expect(host.required).not.toContain("revokedAt");

    // A body's integer is a JSON integer, not "a string or an integer".
    const claim = operation("post", "/v1/hosts/{id}/claim").requestBody?.content["application/json"]?.schema;
    expect(claim?.properties?.slots).toEqual({ type: "integer", minimum: 1, maximum: 1_024 });
    expect((job.properties?.attempt as { type?: string }).type).toBe("integer");

    const output = operation("get", "/v1/jobs/{id}/output");
    expect(output.parameters?.map((parameter) => `${parameter.in} ${parameter.name}`)).toEqual(
      expect.arrayContaining(["path id", "query after", "query waitMs"]),
    );
  });
});

describe("dashboard pages", () => {
  test("/ and /docs redirect into the dashboard", async () => {
    const root = await fetch(`${coordinator.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/ui");
    const docs = await fetch(`${coordinator.url}/docs`, { redirect: "manual" });
    expect(docs.status).toBe(302);
    expect(docs.headers.get("location")).toBe("/ui#/api");
  });

  test("/ui and its script need no token and load nothing from elsewhere", async () => {
    const page = await fetch(`${coordinator.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain(`<script src="/ui/app.js"></script>`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const script = await fetch(`${coordinator.url}/ui/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const source = await script.text();
    expect(source).toContain("x-skyclaw-token");
    expect(source).not.toContain("innerHTML");
    expect(source).not.toMatch(/https?:\/\//);
  });
});
