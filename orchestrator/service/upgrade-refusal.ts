/** How a head service refuses a WebSocket upgrade: a plain HTTP response, then the socket closes. */
import type { Duplex } from 'node:stream';

const REASONS = new Map<number, string>([
  [400, 'Bad Request'],
  [401, 'Unauthorized'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [421, 'Misdirected Request'],
  [503, 'Service Unavailable'],
]);

/** Answers a refused upgrade with `status` and `text` and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${REASONS.get(status) ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
