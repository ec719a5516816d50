/**
 * CPU seconds of processes this machine runs for a benchmark, read from /proc (Linux only): what a shared machine's
 * other tenants slow down but do not add to. Used by cpu-cost.ts and paid-session-cost.ts.
 */
import fs from 'node:fs';
import path from 'node:path';

/** /proc/PID/stat counts in clock ticks: 100 per second on Linux (USER_HZ). */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds of the postmaster, its live children and its reaped children. */
export function postgresCpuS(dataDir: string): number {
  const postmaster = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim();
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // the process ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (pid !== postmaster && fields[1] !== postmaster) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    if (pid === postmaster) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/** CPU seconds (user + system) of one process, from /proc/PID/stat. */
export function processCpuS(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** CPU seconds of this process's child processes still running (the load generator), from /proc. */
export function childrenCpuS(): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[1] === String(process.pid)) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/**
 * CPU seconds of this process's JavaScript thread and of its other threads together, from /proc/self/task. The other
 * threads are V8's (its optimizing compiler, which recompiles hot functions in the background, and its garbage
 * collector's helpers) and libuv's pool: process.cpuUsage() counts them all as the node's, a CPU profile of the
 * main thread shows none of them. Undefined where /proc is not there.
 */
export function threadsCpuS(): { mainS: number; otherS: number } | undefined {
  let tasks: string[];
  try {
    tasks = fs.readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let mainTicks = 0;
  let otherTicks = 0;
  for (const tid of tasks) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (tid === String(process.pid)) mainTicks += ticks;
    else otherTicks += ticks;
  }
  return { mainS: mainTicks / CLOCK_TICKS_PER_S, otherS: otherTicks / CLOCK_TICKS_PER_S };
}
