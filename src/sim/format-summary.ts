/** The summary as an aligned two-column table for a terminal. Pure. */
import type { SimulationSummary } from './summary.ts';

export function formatSummary(summary: SimulationSummary): string {
  const { stations, boots, sessions, messages, transport, ackLatencyMs: latency } = summary;
  const callErrors = Object.entries(summary.callErrors);
  const ms = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)} ms`);
  const rows: [string, string][] = [
    ['CSMS', summary.url],
    ['seed', `${summary.seed} (speed ×${summary.speedFactor})`],
    ['stations', `${stations.connected} of ${stations.planned} connected, ${stations.failed} failed`],
    ['boots', `${boots.accepted} accepted, ${boots.pending} pending, ${boots.rejected} rejected`],
    [
      'sessions',
      `${sessions.planned} planned, ${sessions.started} started: ${sessions.completed} completed, ` +
        `${sessions.refused} refused, ${sessions.failed} failed` +
        (sessions.remote > 0 ? ` (${sessions.remote} remote-started)` : ''),
    ],
    ['energy', `${summary.energyKwh} kWh`],
    [
      'messages',
      `${messages.sent} sent, ${messages.retries} retries, ${messages.dropped} dropped, ${messages.received} received`,
    ],
    [
      'call errors',
      callErrors.length === 0 ? 'none' : callErrors.map(([code, count]) => `${code} ${count}`).join(', '),
    ],
    [
      'connection',
      `${transport.timeouts} timeouts, ${transport.connectionFailures} calls lost, ${transport.disconnects} disconnects`,
    ],
    [
      'ack latency',
      `p50 ${ms(latency.p50)}, p95 ${ms(latency.p95)}, p99 ${ms(latency.p99)}, max ${ms(latency.max)} ` +
        `(${latency.count} calls)`,
    ],
    ['simulated', `${summary.simulatedFrom} to ${summary.simulatedTo}`],
    ['wall time', `${(summary.wallTimeMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return `Simulation summary\n${rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n')}\n`;
}
