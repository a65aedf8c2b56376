/** The version of the head <-> agent protocol (messages.ts, frames.ts). */

/**
 * Sent by an agent in its `hello`; the head refuses an agent that speaks another version (an
 * agent bundle left on a host by an older Orrery). Bump it when a message changes shape (4: agents
 * announce their object transfer server, and locate and copy objects through the head).
 */
export const PROTOCOL_VERSION = '4';
