/**
 * A request's path, read from its URL without building a URL object (`new URL` parses and
 * normalizes the whole URL; the hooks that need a path run on many requests). It is the raw
 * path, as Elysia routes on it: what matched a route is what the hooks see.
 */
export function pathOf(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query === -1 ? (hash === -1 ? url.length : hash) : hash === -1 ? query : Math.min(query, hash);
  return url.slice(start, end);
}
