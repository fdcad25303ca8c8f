/** Every request/response schema of the HTTP API; the server and the client both import from here. */
export * from "./cluster";
export * from "./common";
export * from "./hosts";
export * from "./jobs";
export * from "./state";
