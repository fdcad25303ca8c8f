/**
 * routes.ts imports app.js `with { type: "text" }` (so the compiled binary embeds it): what it
 * gets is the script's source text, which it serves to browsers.
 */
declare const source: string;
export default source;
