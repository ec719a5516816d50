/** Metrics of station authentication, registered on the node's registry next to the gateway's own. */
import { Counter } from 'prom-client';
import type { Metrics } from '../../metrics.ts';

export type SecurityMetrics = ReturnType<typeof createSecurityMetrics>;

export function createSecurityMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    refused: new Counter({
      name: 'voltbill_ocpp_connections_refused_total',
      help: 'OCPP connections refused before any message was processed, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    displaced: new Counter({
      name: 'voltbill_ocpp_connections_displaced_total',
      help: 'Live station connections closed because the same station authenticated on a new connection',
      registers,
    }),
    authenticated: new Counter({
      name: 'voltbill_ocpp_connections_authenticated_total',
      help: 'OCPP connections accepted, by security profile and protocol',
      labelNames: ['profile', 'protocol'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'voltbill_ocpp_messages_rate_limited_total',
      help: "Station requests refused because too many waited for the station's messages per second at once",
      registers,
    }),
    throttled: new Counter({
      name: 'voltbill_ocpp_messages_throttled_total',
      help: "Station requests over the station's messages per second, answered late (at the rate) instead of refused",
      registers,
    }),
  };
}
