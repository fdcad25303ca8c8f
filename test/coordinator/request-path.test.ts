/** pathOf: the raw path of a request's URL, as Elysia routes on it, without the query or fragment. */
import { expect, test } from "bun:test";
import { pathOf } from "../../src/coordinator/request-path";

test("the path of a request is what follows the authority, up to a query or fragment", () => {
  const path = (url: string) => pathOf(new Request(url));
  expect(path("http://127.0.0.1:8787/v1/jobs?limit=5")).toBe("/v1/jobs");
  expect(path("http://[::1]:8787/v1/hosts/h1/claim#x")).toBe("/v1/hosts/h1/claim");
  expect(path("http://example.test/a#b?c")).toBe("/a");
  expect(path("http://example.test")).toBe("/");
});
