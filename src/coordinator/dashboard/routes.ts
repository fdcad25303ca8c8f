/**
 * The web dashboard (its API view is the docs page for /openapi.json): one HTML file and one
 * script, imported as text so `bun build --compile` embeds them and `dist/skyclaw` serves them
 * with nothing on disk.
 *
 * Their paths are public (public-paths.ts); the data the dashboard shows comes from the API,
 * with the token the user typed in.
 */
import { Elysia } from "elysia";
import appJs from "./app.js" with { type: "text" };
import indexHtmlText from "./index.html" with { type: "text" };

// Bun's typings call every *.html import an HTMLBundle; imported as text it is the file's contents.
const indexHtml = indexHtmlText as unknown as string;

// The pages load only their own script and talk only to this origin.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

function page(body: string, contentType: string): Response {
  return new Response(body, { headers: { "content-type": contentType, ...SECURITY_HEADERS } });
}

const hidden = { detail: { hide: true } };

export function dashboardRoutes() {
  return new Elysia()
    .get("/", () => new Response(null, { status: 302, headers: { location: "/ui" } }), hidden)
    .get("/ui", () => page(indexHtml, "text/html; charset=utf-8"), hidden)
    .get("/ui/", () => page(indexHtml, "text/html; charset=utf-8"), hidden)
    .get("/ui/app.js", () => page(appJs, "text/javascript; charset=utf-8"), hidden)
    .get("/docs", () => new Response(null, { status: 302, headers: { location: "/ui#/api" } }), hidden);
}
