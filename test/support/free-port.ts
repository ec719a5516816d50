import fs from 'node:fs';
import net from 'node:net';

/**
 * A loopback port that is free now, for a server another process will start on it later.
 *
 * Why not `listen(0)`: the kernel hands out such ports from its ephemeral range, the same range it draws the local
 * port of every outgoing connection from. Between the probe closing and the child listening, a connection to
 * PostgreSQL or a station's reconnect can take the port as its local end, and the child fails with EADDRINUSE (CI
 * saw this once, starting the second chaos node). Ports below the ephemeral range are never assigned implicitly, so
 * only another process that picks ports the same way can race us, and it draws from about 12,000.
 */
export async function freePort(): Promise<number> {
  const [rangeStart, rangeEnd] = portRangeBelowEphemeral();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const port = rangeStart + Math.floor(Math.random() * (rangeEnd - rangeStart + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port in ${rangeStart}..${rangeEnd} after ${MAX_ATTEMPTS} attempts`);
}

const MAX_ATTEMPTS = 200;
/** Above the registered services most hosts run (PostgreSQL 5432, 8080...); below Linux's default 32768. */
const LOWEST_PORT = 20_000;
const LINUX_DEFAULT_EPHEMERAL_START = 32_768;

function portRangeBelowEphemeral(): [number, number] {
  let ephemeralStart = LINUX_DEFAULT_EPHEMERAL_START;
  try {
    const [start] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (start && Number.isInteger(Number(start))) ephemeralStart = Number(start);
  } catch {
    // Not Linux: keep the default; macOS's ephemeral range (49152+) lies above it anyway.
  }
  // A host configured with a low ephemeral range still gets unprivileged ports below it.
  const lowest = Math.min(LOWEST_PORT, Math.max(1024, ephemeralStart - 10_000));
  if (ephemeralStart - 1 - lowest < 100) throw new Error(`ephemeral ports start at ${ephemeralStart}: no room below`);
  return [lowest, ephemeralStart - 1];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
