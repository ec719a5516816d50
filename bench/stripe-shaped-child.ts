/**
 * The Stripe-shaped provider (test/support/stripe-shaped-server.ts) in a process of its own, for the benchmarks'
 * `--provider stripe`: Voltbill's node then pays what it pays in production against Stripe (the `stripe` SDK's HTTP
 * calls over a real socket) and nothing of the card network's own work, which the built-in SANDBOX provider does
 * inside the node (its vault, its state, and the HTTP client side of its webhooks). Its CPU, like the stations', is
 * not counted as the node's.
 *
 * Run as a script it prints `{"port":N}` on its first stdout line and serves until its stdin closes (the parent
 * ended or was killed), so that it never outlives the benchmark. A stdin line
 * `{"webhook":{"url":…,"secret":…,"delayMs":…}}` makes it send Stripe's signed events there from then on, as Stripe
 * does (a few per payment), each `delayMs` after it happened; `{"latencyMs":N}` answers every API call N ms late, as
 * Stripe's own servers take a few hundred ms per payment call.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BENCH_STRIPE_WEBHOOK_SECRET, numberFlag } from '../src/load/bench-harness.ts';
import { startStripeShapedServer } from '../test/support/stripe-shaped-server.ts';
import { processCpuS } from './process-cpu.ts';

export type StripeShapedChild = {
  /** STRIPE_API_URL for the node. */
  readonly apiUrl: string;
  /** Sends Stripe's signed events to Voltbill's endpoint from now on (test/support/stripe-shaped-server.ts). */
  sendWebhooks(url: string, secret: string, delayMs?: number): void;
  /** Every API call answered `ms` late from now on (test/support/stripe-shaped-server.ts setLatency). */
  setLatency(ms: number): void;
  /** This share of API calls held unanswered from now on, as a Stripe call that times out (injectFaults). */
  setTimeoutRate(rate: number, seed: number): void;
  /** The provider process's CPU so far, in seconds (user + system), from /proc. */
  cpuS(): number;
  close(): Promise<void>;
};

/**
 * The benchmarks' `--provider sandbox|stripe` (default sandbox), `--webhook-delay-ms D` (default 0),
 * `--provider-latency-ms L` (default 0; Stripe only: every API call answered L ms late) and
 * `--provider-timeout-rate R` (default 0; Stripe only: that share of calls never answered, so that the node's own
 * STRIPE_TIMEOUT_MS ends them) flags.
 */
export function providerFlags(): {
  readonly provider: 'sandbox' | 'stripe';
  readonly webhookDelayMs: number;
  readonly latencyMs: number;
  readonly timeoutRate: number;
} {
  const index = process.argv.indexOf('--provider');
  const provider = index === -1 ? 'sandbox' : process.argv[index + 1];
  if (provider !== 'sandbox' && provider !== 'stripe') throw new Error('--provider must be sandbox or stripe');
  const latencyMs = numberFlag('provider-latency-ms', 0);
  if (latencyMs > 0 && provider !== 'stripe') throw new Error('--provider-latency-ms needs --provider stripe');
  const rateIndex = process.argv.indexOf('--provider-timeout-rate');
  const timeoutRate = rateIndex === -1 ? 0 : Number(process.argv[rateIndex + 1]);
  if (!(timeoutRate >= 0 && timeoutRate < 1)) throw new Error('--provider-timeout-rate must be at least 0, below 1');
  if (timeoutRate > 0 && provider !== 'stripe') throw new Error('--provider-timeout-rate needs --provider stripe');
  return { provider, webhookDelayMs: numberFlag('webhook-delay-ms', 0), latencyMs, timeoutRate };
}

/** Has the provider send its events to the Stripe webhook endpoint of the node at `httpUrl`, `delayMs` late. */
export function connectWebhooks(stripe: StripeShapedChild, httpUrl: string, delayMs: number): void {
  stripe.sendWebhooks(`${httpUrl}/api/v1/payments/webhooks/stripe`, BENCH_STRIPE_WEBHOOK_SECRET, delayMs);
}

/** Starts the provider in a child process and resolves once it listens. */
export function startStripeShapedChild(): Promise<StripeShapedChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the Stripe-shaped provider exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const { port } = JSON.parse(line) as { port: number };
      resolve({
        apiUrl: `http://127.0.0.1:${port}`,
        sendWebhooks: (url, secret, delayMs = 0) =>
          child.stdin.write(`${JSON.stringify({ webhook: { url, secret, delayMs } })}\n`),
        setLatency: (ms) => child.stdin.write(`${JSON.stringify({ latencyMs: ms })}\n`),
        setTimeoutRate: (rate, seed) => child.stdin.write(`${JSON.stringify({ timeoutRate: rate, seed })}\n`),
        cpuS: () => processCpuS(child.pid as number),
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.stdin.end();
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startStripeShapedServer();
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const command = JSON.parse(line) as {
      webhook?: { url: string; secret: string; delayMs?: number };
      latencyMs?: number;
      timeoutRate?: number;
      seed?: number;
    };
    if (command.latencyMs !== undefined) server.setLatency(command.latencyMs);
    else if (command.timeoutRate !== undefined) {
      server.injectFaults({
        rates: { timeout: command.timeoutRate, serverError: 0, lostResponse: 0 },
        seed: command.seed ?? 1,
      });
    } else server.setWebhook(command.webhook);
  });
  process.stdin.once('end', () => {
    void server.close().then(() => process.exit(0));
  });
}
