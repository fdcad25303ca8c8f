/** The Raft core's public surface, for drivers (the coordinator's transport and storage). */
export { RaftNode, type StartOptions } from "./node";
export type { RaftOptions } from "./options";
export type * from "./messages";
export type * from "./ready";
export { decodeMembership, encodeMembership } from "./membership";
