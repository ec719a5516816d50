/**
 * What the benchmarks that run sessions (e2e, storage, gateway, cpu-cost, statements-per-session) share besides
 * startBenchServer (src/load/bench-harness.ts), which starts their server with the load-test limits, the velocity
 * limits included (LOAD_TEST_LIMITS): each load station has one id token and runs back-to-back sessions, so the
 * default of 6 starts per token and hour would refuse every session after a station's sixth.
 */
import path from 'node:path';

/**
 * The URL the server under test uses: TCP on 127.0.0.1 (the default), or with `--unix-socket` the server's Unix
 * domain socket (test/support/postgres-server.ts puts it in the data folder's parent), which is how a node on the
 * same host as its PostgreSQL is best connected: every statement costs the node a socket write, and a Unix socket
 * write is much cheaper than a TCP loopback one (profiles: writev was the largest self time on the stop path).
 */
export function benchDatabaseUrl(postgres: { url: string; dataDir: string }, unixSocket: boolean): string {
  if (!unixSocket) return postgres.url;
  const port = new URL(postgres.url).port;
  return `postgres://postgres@localhost/postgres?host=${encodeURIComponent(path.dirname(postgres.dataDir))}&port=${port}`;
}
