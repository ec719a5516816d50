/**
 * Starts a throwaway PostgreSQL server from the machine's own binaries (initdb, pg_ctl) on a free loopback port,
 * for the test suite and the benchmarks. PostgreSQL refuses to run as root, so when we are root the cluster is
 * created and run as the unprivileged `postgres` (or `nobody`) user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';

export type PostgresServer = {
  url: string;
  dataDir: string;
  binDir: string;
  stop(): void;
  /**
   * An outage: stops the server the hard way (`-m immediate`, like a crash: no checkpoint, clients cut off), waits
   * `downMs`, and starts it again on the same port with the same settings (crash recovery replays the WAL).
   */
  restart(downMs: number): Promise<void>;
};

export type PostgresBinaries = { binDir: string } | { missing: string };

/** Finds initdb/pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin (newest first). */
export function findPostgresBinaries(): PostgresBinaries {
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(dir);
  const debianRoot = '/usr/lib/postgresql';
  if (fs.existsSync(debianRoot)) {
    const versions = fs.readdirSync(debianRoot).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(path.join(debianRoot, version, 'bin'));
  }
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) return { binDir: dir };
  }
  return { missing: 'no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin' };
}

function runAs(user: string | undefined, command: string, args: string[]): void {
  const [file, fileArgs] = user ? ['runuser', ['-u', user, '--', command, ...args]] : [command, args];
  const result = spawnSync(file, fileArgs, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${command} failed (exit ${result.status}): ${result.stderr || result.stdout || result.error}`);
  }
}

function unprivilegedUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // try the next candidate
    }
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists to run PostgreSQL');
}

export type StartPostgresOptions = {
  /** Durability off (fsync, synchronous_commit) for fast tests; benchmarks keep it on. */
  durable?: boolean;
  maxConnections?: number;
  /** Loads pg_stat_statements (benchmarks that show where PostgreSQL's time goes: bench/cpu-cost.ts --statements). */
  statementStatistics?: boolean;
};

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const found = findPostgresBinaries();
  if ('missing' in found) throw new Error(found.missing);
  const user = unprivilegedUser();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'voltbill-pg-'));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  if (user) {
    fs.chmodSync(root, 0o755);
    fs.chownSync(root, user.uid, user.gid);
    fs.chownSync(dataDir, user.uid, user.gid);
  }
  const port = await freePort();
  const bin = (name: string) => path.join(found.binDir, name);
  runAs(user?.name, bin('initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  const settings = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-k ${root}`,
    `-c max_connections=${options.maxConnections ?? 100}`,
    ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    ...(options.statementStatistics
      ? ['-c shared_preload_libraries=pg_stat_statements', '-c pg_stat_statements.track=all']
      : []),
  ].join(' ');
  runAs(user?.name, bin('pg_ctl'), ['-D', dataDir, '-o', settings, '-l', path.join(root, 'server.log'), '-w', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    binDir: found.binDir,
    async restart(downMs: number) {
      runAs(user?.name, bin('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      runAs(user?.name, bin('pg_ctl'), [
        '-D',
        dataDir,
        '-o',
        settings,
        '-l',
        path.join(root, 'server.log'),
        '-w',
        'start',
      ]);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        runAs(user?.name, bin('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
