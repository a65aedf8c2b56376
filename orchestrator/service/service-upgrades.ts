/**
 * WebSocket upgrades of a head service. Every upgrade passes the Host and access checks
 * (head-access.ts) before it reaches the dashboard's feed (`/api/events`) or the driver
 * gateway (`/api/driver`); those two accept what they are handed.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionGuard } from './connection-guard.ts';
import { EVENTS_PATH, type EventsFeed } from './dashboard-events.ts';
import type { HeadAccess } from './head-access.ts';
import { hostRefusal } from './host-check.ts';
import { refuseUpgrade } from './upgrade-refusal.ts';
import { DRIVER_PATH } from '../protocol/driver-socket.ts';
import type { DriverGateway } from './ws-gateway.ts';

/** What upgrades are checked with and handed to. */
export interface UpgradeTargets {
  readonly access: HeadAccess;
  readonly connections: ConnectionGuard;
  readonly feed: EventsFeed;
  readonly gateway: DriverGateway;
}

/** Checks an upgrade and hands it to the feed or the gateway, or refuses it (421, 401, 403, 404). */
export function routeUpgrade(t: UpgradeTargets, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (!t.access.hostAllowed(req)) return refuseUpgrade(socket, 421, hostRefusal(req));
  const url = new URL(req.url ?? '/', 'http://head');
  const verdict = t.access.check(req, url, true);
  if (!verdict.ok) return refuseUpgrade(socket, verdict.status, verdict.error);
  t.connections.trust(socket as Socket);
  if (url.pathname === EVENTS_PATH) t.feed.upgrade(req, socket, head);
  else if (url.pathname === DRIVER_PATH) t.gateway.upgrade(req, socket, head, url);
  else
    refuseUpgrade(
      socket,
      404,
      `no WebSocket at ${url.pathname}; drivers connect to ${DRIVER_PATH}, the dashboard to ${EVENTS_PATH}`,
    );
}
