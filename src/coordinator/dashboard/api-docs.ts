/**
 * `GET /openapi.json`: the OpenAPI document of every route, built by Elysia's OpenAPI plugin
 * (`toOpenAPISchema`) from the routes' TypeBox schemas and their `detail`.
 *
 * Three things are added here rather than left to the plugin:
 * - Request bodies. The app parses every body itself (app.ts, `onParse`), and the plugin lists a
 *   body's media types only from named parsers, so it would describe each body with none.
 * - Responses. The routes declare no response schemas (Elysia would then re-validate every
 *   reply); the schemas the client already uses for them are attached to the document only.
 * - No docs UI from the plugin: its Scalar and Swagger pages load scripts from a CDN, which an
 *   offline network cannot reach. The dashboard's API view (/docs) renders this document.
 *
 * Public like /health (public-paths.ts): it describes the API's shape, not any data.
 */
import { toOpenAPISchema } from "@elysiajs/openapi";
import { Elysia, type AnyElysia, type InternalRoute, type TSchema } from "elysia";
import {
  AppendOutputResponse,
  ClaimResponse,
  ClusterChangeResponse,
  ClusterState,
  ClusterStatus,
  CompleteJobsResponse,
  ErrorBody,
  Health,
  HeartbeatResponse,
  Host,
  HostList,
  Job,
  JobList,
  OutputPage,
  RegisterHostResponse,
  RenewResponse,
} from "../../api";
import { VERSION } from "../../version";
import { OPENAPI_PATH } from "./public-paths";

const OPENAPI_VERSION = "3.1.2";

/** The success response of each route, keyed "METHOD /openapi/{path}". */
const RESPONSES: Record<string, { status: number; schema: TSchema }> = {
  "GET /health": { status: 200, schema: Health },
  "GET /v1/state": { status: 200, schema: ClusterState },
  "POST /v1/hosts/register": { status: 200, schema: RegisterHostResponse },
  "POST /v1/hosts/{id}/heartbeat": { status: 200, schema: HeartbeatResponse },
  "POST /v1/hosts/{id}/claim": { status: 200, schema: ClaimResponse },
  "POST /v1/hosts/{id}/complete": { status: 200, schema: CompleteJobsResponse },
  "POST /v1/hosts/{id}/drain": { status: 200, schema: Host },
  "GET /v1/hosts": { status: 200, schema: HostList },
  "GET /v1/hosts/{id}": { status: 200, schema: Host },
  "POST /v1/jobs": { status: 201, schema: Job },
  "GET /v1/jobs": { status: 200, schema: JobList },
  "GET /v1/jobs/{id}": { status: 200, schema: Job },
  "GET /v1/jobs/{id}/output": { status: 200, schema: OutputPage },
  "POST /v1/jobs/{id}/cancel": { status: 200, schema: Job },
  "POST /v1/jobs/{id}/renew": { status: 200, schema: RenewResponse },
  "POST /v1/jobs/{id}/output": { status: 200, schema: AppendOutputResponse },
  "POST /v1/jobs/{id}/complete": { status: 200, schema: Job },
  "GET /v1/cluster": { status: 200, schema: ClusterStatus },
  "POST /v1/cluster/join": { status: 200, schema: ClusterChangeResponse },
  "POST /v1/cluster/leave": { status: 200, schema: ClusterChangeResponse },
  "POST /v1/cluster/transfer": { status: 200, schema: ClusterChangeResponse },
};

const DOCUMENTATION = {
  info: {
    title: "Skyclaw API",
    version: VERSION,
    description:
      "The coordinator's HTTP API. When the coordinator has any secret (SKYCLAW_TOKEN, or the scoped SKYCLAW_ADMIN_TOKEN, SKYCLAW_PUBLIC_API_KEYS, SKYCLAW_HOST_JOIN_TOKEN, SKYCLAW_PEER_TOKEN), every route except /health, /openapi.json and the dashboard pages needs a credential in the x-skyclaw-token header (or Authorization: Bearer); what it may do depends on its role: admin, submit (own jobs), host (itself), peer. Errors are JSON {error, field?, message}.",
  },
  tags: [
    { name: "system", description: "health and the state summary" },
    { name: "jobs", description: "submit, read, follow and cancel jobs" },
    { name: "hosts", description: "host daemons: register, heartbeat, claim, drain" },
    { name: "host leases", description: "the lease-fenced writes a host makes about a job it runs" },
    { name: "cluster", description: "membership of a replicated coordinator cluster" },
  ],
  security: [{ token: [] }],
};

type Operation = {
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, unknown>;
  [key: string]: unknown;
};

/** `/v1/jobs/:id` → `/v1/jobs/{id}`, the form the plugin writes paths in. */
const openApiPath = (path: string) => path.replace(/:([^/]+)/g, "{$1}");

// A TypeBox schema is a JSON Schema already; JSON.stringify drops its symbol-keyed internals.
const jsonContent = (schema: TSchema) => ({ "application/json": { schema } });

/**
 * Once a plugin is `.use()`d, Elysia points its getGlobalRoutes at the whole app: this is how the
 * plugin's generator sees every route. TypeScript calls the method protected.
 */
const allRoutes = (app: AnyElysia) => (app as unknown as { getGlobalRoutes(): InternalRoute[] }).getGlobalRoutes();

export function buildOpenApiDocument(app: AnyElysia) {
  const { paths, components } = toOpenAPISchema(app, undefined, undefined, undefined, OPENAPI_VERSION);
  const operations = paths as Record<string, Record<string, Operation>>;
  for (const route of allRoutes(app)) {
    const path = openApiPath(route.path);
    const operation = operations[path]?.[route.method.toLowerCase()];
    if (operation === undefined) continue;
    const body = route.hooks?.body;
    if (operation.requestBody !== undefined && Object.keys(operation.requestBody.content ?? {}).length === 0 && body !== undefined && typeof body !== "string") {
      operation.requestBody.content = jsonContent(body as TSchema);
    }
    const success = RESPONSES[`${route.method} ${path}`];
    operation.responses = {
      ...(success && { [success.status]: { description: "success", content: jsonContent(success.schema) } }),
      "4XX": { description: "refused: {error, field?, message}", content: jsonContent(ErrorBody) },
      ...operation.responses,
    };
  }
  return {
    openapi: OPENAPI_VERSION,
    ...DOCUMENTATION,
    paths,
    components: {
      ...components,
      securitySchemes: { token: { type: "apiKey", in: "header", name: "x-skyclaw-token" } },
    },
  };
}

export function apiDocs() {
  // Built on the first request, when every route is registered; the routes never change after.
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  const plugin: AnyElysia = new Elysia({ name: "skyclaw-api-docs" }).get(OPENAPI_PATH, () => (document ??= buildOpenApiDocument(plugin)), {
    detail: { hide: true },
  });
  return plugin;
}
