/**
 * The head service's WebSocket endpoints as both ends see them: the subprotocol every client
 * offers, the path drivers connect to, the largest driver message, and the welcome a driver
 * gets first (service/ws-gateway.ts serves it, api/client-runtime.ts and the dashboard
 * connect).
 */

/** Subprotocol a WebSocket client offers along with its token subprotocol. */
export const WS_PROTOCOL = 'orrery';

/** Path drivers connect to. */
export const DRIVER_PATH = '/api/driver';

/** Largest message a driver may send the head: 512 MiB. */
export const MAX_DRIVER_MESSAGE_BYTES = 512 * 1024 * 1024;

/** What the head tells a driver when it connects (a `reply` with `requestId` 0). */
export interface DriverWelcome {
  readonly jobId: string;
  readonly namespace: string;
  /** A node of the head, for the driver's runtime context. */
  readonly nodeId: string;
  readonly headId: string;
  /** The largest message the head accepts from this driver, in bytes. */
  readonly maxMessageBytes: number;
  /**
   * The head's shared-memory folder (core/shared-memory.ts): a driver that sees it (same
   * machine, same user) sends `map-shared` and then puts and gets large values through it.
   */
  readonly shmDir?: string;
}
