/**
 * The paths of the API description and of the dashboard's static files. They hold no data, so
 * auth.ts lets them through without a token: a browser opening a URL cannot send the
 * x-skyclaw-token header, and the dashboard sends it on every API call it makes.
 */
export const OPENAPI_PATH = "/openapi.json";
export const DASHBOARD_PATHS = ["/", "/ui", "/ui/", "/ui/app.js", "/docs"] as const;
