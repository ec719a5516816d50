/**
 * Nodes of a Voltbill cluster for the multi-node tests: one node in this process (startServer on a PostgreSQL
 * URL) and others as real `voltbill serve` child processes on the same database, which a test can SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { freePort } from './free-port.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** A child's start (node, tsx compile, migrations check) can take long on a busy 2-core machine. */
const CHILD_START_TIMEOUT_MS = 60_000;

/** Starts a node in this process on `databaseUrl`, seeding the demo data when asked. */
export async function startInProcessNode(
  databaseUrl: string,
  env: Record<string, string>,
  options: { seed: boolean },
): Promise<RunningServer> {
  const config = loadConfig({
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: '0',
    VOLTBILL_HTTP_PORT: '0',
    VOLTBILL_LOG_LEVEL: 'silent',
    ...env,
  });
  return startServer({
    config,
    seed: options.seed,
    logger: pino({ level: process.env.VOLTBILL_TEST_LOG ?? 'silent' }),
    database: { kind: 'postgres', url: databaseUrl },
    command: 'test',
  });
}

export type ChildNode = {
  readonly child: ChildProcess;
  readonly ocppUrl: string;
  readonly httpUrl: string;
  /** The last lines the node wrote to stderr (for failure messages). */
  stderr(): string;
  /** SIGKILL: no shutdown code runs (no presence cleanup, no flush). Resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait (the graceful path). */
  stop(): Promise<void>;
};

/** Starts `voltbill serve --no-seed` as a child process on `databaseUrl`; resolves once /health answers. */
export async function spawnServeNode(databaseUrl: string, env: Record<string, string>): Promise<ChildNode> {
  const [ocppPort, httpPort] = [await freePort(), await freePort()];
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    VOLTBILL_HOST: '127.0.0.1',
    VOLTBILL_OCPP_PORT: String(ocppPort),
    VOLTBILL_HTTP_PORT: String(httpPort),
    VOLTBILL_LOG_LEVEL: 'warn',
    ...env,
  };
  delete childEnv.VOLTBILL_TEST_DB;
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/voltbill.js'), 'serve', '--no-seed'], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
  while (!(await healthy(httpUrl))) {
    if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode} while starting: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the node did not become healthy in ${CHILD_START_TIMEOUT_MS / 1000} s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    ocppUrl: `ws://127.0.0.1:${ocppPort}/ocpp`,
    httpUrl,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function healthy(httpUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${httpUrl}/health`)).ok;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
