/**
 * The live view of a network for the dashboard: GET /live returns one snapshot (stations with their derived state,
 * active sessions with live energy, power and an estimated running cost, the latest finished sessions with their
 * billed cost); GET /events streams the same snapshot as Server-Sent Events whenever it changes.
 *
 * The stream polls the database per connection instead of listening to domain events: it stays correct on a
 * cluster of nodes (a session may be updated by another node) and costs a few indexed queries per interval.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import { SESSION_ACTIVE } from '../../db/partial-index-literals.ts';
import type { Database } from '../../db/schema.ts';
import { parseScaled } from '../../shared/decimal.ts';
import { formatMoney } from '../../shared/money.ts';
import { parseTariff } from '../../tariff/parse-tariff.ts';
import { quoteSession } from '../../tariff/quote-session.ts';
import type { AppDeps } from '../build-app.ts';
import { ApiError } from '../errors.ts';

/** How often a stream re-reads the snapshot; a change reaches the browser within this time. */
export const LIVE_POLL_INTERVAL_MS = 2_000;
/** A comment line at least this often keeps proxies from closing an idle stream. */
const KEEPALIVE_INTERVAL_MS = 15_000;
/** Open event streams per server; each one polls the database, so they are bounded. */
export const MAX_EVENT_STREAMS = 100;
/** Most active sessions and stations a snapshot carries; a bigger network should page through the REST API. */
const MAX_ACTIVE_SESSIONS = 500;
const MAX_STATIONS = 2_000;
const RECENT_FINISHED = 10;

export type StationState = 'offline' | 'available' | 'charging' | 'faulted' | 'unavailable';

const CHARGING_STATUSES = new Set(['Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing']);

/** One word for a station, from its connection and its EVSEs' last status: what the network map colours by. */
export function stationState(connected: boolean, evseStatuses: readonly string[], hasActiveSession: boolean) {
  if (!connected) return 'offline' satisfies StationState;
  if (evseStatuses.includes('Faulted')) return 'faulted' satisfies StationState;
  if (hasActiveSession || evseStatuses.some((s) => CHARGING_STATUSES.has(s))) return 'charging' satisfies StationState;
  if (evseStatuses.length > 0 && evseStatuses.every((s) => s === 'Unavailable')) {
    return 'unavailable' satisfies StationState;
  }
  return 'available' satisfies StationState;
}

type Money = { exclVat: string; inclVat: string; currency: string };

/** The estimate of what an active session costs so far: the quote of its energy over its elapsed time. */
function runningCost(
  tariffBody: unknown,
  input: { startedAt: Date; now: Date; energyWh: number; timeZone: string; rounding: 'half-up' | 'half-even' },
): Money | null {
  const tariff = parseTariff(tariffBody);
  if (!tariff.ok) return null;
  // A quote needs a positive duration; a session seconds old is priced as one second.
  const durationMinutes = Math.max(input.now.getTime() - input.startedAt.getTime(), 1000) / 60_000;
  const quote = quoteSession(tariff.value, {
    startAt: input.startedAt,
    energyWh: Math.max(0, input.energyWh),
    durationMinutes,
    timeZone: input.timeZone,
    rounding: input.rounding,
  });
  if (!quote.ok) return null;
  return {
    exclVat: formatMoney(quote.value.totals.exclVat),
    inclVat: formatMoney(quote.value.totals.inclVat),
    currency: quote.value.totals.inclVat.currency,
  };
}

/** Integer Wh from a numeric(20,3) register text, exact (truncated to whole Wh only for display). */
function wholeWh(registerText: string): number | undefined {
  const milli = parseScaled(registerText, 3);
  return milli === undefined ? undefined : Number(milli / 1000n);
}

export async function buildLiveSnapshot(
  db: Kysely<Database>,
  operatorId: string,
  connectedStations: readonly string[],
  now: Date,
) {
  const online = new Set(connectedStations);
  const [operator, stations, evses, active, finished] = await Promise.all([
    db.selectFrom('operators').select('rounding_mode').where('id', '=', operatorId).executeTakeFirst(),
    db
      .selectFrom('stations')
      .select(['id', 'location_id', 'last_seen_at'])
      .where('operator_id', '=', operatorId)
      .orderBy('id')
      .limit(MAX_STATIONS)
      .execute(),
    db
      .selectFrom('evses')
      .innerJoin('stations', 'stations.id', 'evses.station_id')
      .select(['evses.station_id', 'evses.evse_id', 'evses.status', 'evses.error_code', 'evses.max_power_w'])
      .where('stations.operator_id', '=', operatorId)
      .execute(),
    db
      .selectFrom('sessions')
      .leftJoin('tariff_versions', 'tariff_versions.id', 'sessions.tariff_version_id')
      .select([
        'sessions.id',
        'sessions.station_id',
        'sessions.evse_id',
        'sessions.id_tag',
        'sessions.started_at',
        'sessions.meter_start_wh',
        'sessions.time_zone',
        'sessions.currency',
        'sessions.charging_state',
        'tariff_versions.body as tariff_body',
      ])
      .where('sessions.operator_id', '=', operatorId)
      .where('sessions.status', '=', SESSION_ACTIVE)
      .orderBy('sessions.started_at', 'desc')
      .limit(MAX_ACTIVE_SESSIONS)
      .execute(),
    db
      .selectFrom('sessions')
      .leftJoin('cdrs', 'cdrs.session_id', 'sessions.id')
      .select([
        'sessions.id',
        'sessions.station_id',
        'sessions.evse_id',
        'sessions.started_at',
        'sessions.ended_at',
        'sessions.energy_wh',
        'sessions.billing_status',
        'sessions.currency',
        'cdrs.total_excl_vat_minor',
        'cdrs.total_incl_vat_minor',
        'cdrs.currency as cdr_currency',
      ])
      .where('sessions.operator_id', '=', operatorId)
      .where('sessions.status', '=', 'Completed')
      .orderBy('sessions.ended_at', 'desc')
      .limit(RECENT_FINISHED)
      .execute(),
  ]);
  if (!operator) throw new ApiError('NotFound', 'operator not found');

  const activeIds = active.map((s) => s.id);
  const [registers, powers] =
    activeIds.length === 0
      ? [[], []]
      : await Promise.all([
          db
            .selectFrom('meter_samples')
            .distinctOn('session_id')
            .select(['session_id', 'register_wh', 'sampled_at'])
            .where('session_id', 'in', activeIds)
            .where('register_wh', 'is not', null)
            .orderBy('session_id')
            .orderBy('sampled_at', 'desc')
            .execute(),
          db
            .selectFrom('meter_samples')
            .distinctOn('session_id')
            .select(['session_id', 'power_w', 'sampled_at'])
            .where('session_id', 'in', activeIds)
            .where('power_w', 'is not', null)
            .orderBy('session_id')
            .orderBy('sampled_at', 'desc')
            .execute(),
        ]);
  const registerBySession = new Map(registers.map((r) => [r.session_id, r]));
  const powerBySession = new Map(powers.map((r) => [r.session_id, r]));

  const activeSessions = active.map((s) => {
    const register = registerBySession.get(s.id);
    const registerWh = register?.register_wh ? wholeWh(register.register_wh) : undefined;
    const energyWh = registerWh === undefined ? 0 : Math.max(0, registerWh - Number(s.meter_start_wh));
    const power = powerBySession.get(s.id);
    return {
      id: s.id,
      stationId: s.station_id,
      evseId: s.evse_id,
      idTag: s.id_tag,
      startedAt: s.started_at.toISOString(),
      chargingState: s.charging_state,
      energyWh,
      powerW: power?.power_w ? Math.round(Number(power.power_w)) : null,
      lastSampleAt: register?.sampled_at.toISOString() ?? null,
      runningCost:
        s.tariff_body === null
          ? null
          : runningCost(s.tariff_body, {
              startedAt: s.started_at,
              now,
              energyWh,
              timeZone: s.time_zone,
              rounding: operator.rounding_mode,
            }),
    };
  });

  const activeStations = new Set(active.map((s) => s.station_id));
  const evsesByStation = new Map<string, typeof evses>();
  for (const evse of evses) {
    const list = evsesByStation.get(evse.station_id) ?? [];
    list.push(evse);
    evsesByStation.set(evse.station_id, list);
  }
  const counts: Record<StationState, number> = { offline: 0, available: 0, charging: 0, faulted: 0, unavailable: 0 };
  const stationList = stations.map((station) => {
    const own = evsesByStation.get(station.id) ?? [];
    const state = stationState(
      online.has(station.id),
      own.map((e) => e.status),
      activeStations.has(station.id),
    );
    counts[state] += 1;
    return {
      id: station.id,
      locationId: station.location_id,
      connected: online.has(station.id),
      state,
      lastSeenAt: station.last_seen_at?.toISOString() ?? null,
      evses: own.map((e) => ({
        evseId: e.evse_id,
        status: e.status,
        errorCode: e.error_code,
        maxPowerW: e.max_power_w,
      })),
    };
  });

  return {
    counts,
    stations: stationList,
    activeSessions,
    recentSessions: finished.map((s) => ({
      id: s.id,
      stationId: s.station_id,
      evseId: s.evse_id,
      startedAt: s.started_at.toISOString(),
      endedAt: s.ended_at?.toISOString() ?? null,
      energyWh: s.energy_wh === null ? null : Number(s.energy_wh),
      billingStatus: s.billing_status,
      totalCost:
        s.total_incl_vat_minor === null || s.total_excl_vat_minor === null
          ? null
          : {
              exclVat: minorText(s.total_excl_vat_minor, s.cdr_currency ?? s.currency),
              inclVat: minorText(s.total_incl_vat_minor, s.cdr_currency ?? s.currency),
              currency: s.cdr_currency ?? s.currency,
            },
    })),
  };
}

function minorText(minor: bigint, currency: string): string {
  // formatMoney needs a parsed currency; the CDR's currency was parsed when it was priced.
  return formatMoney({ minor, currency: currency as Parameters<typeof formatMoney>[0]['currency'] });
}

export function registerEventRoutes(api: FastifyInstance, deps: AppDeps): void {
  const openStreams = new Set<FastifyReply>();
  const snapshotFor = (operatorId: string) =>
    buildLiveSnapshot(deps.db, operatorId, deps.connectedStations(), deps.clock.now());

  api.get('/live', async (request) => ({
    at: deps.clock.now().toISOString(),
    ...(await snapshotFor(request.principal!.operatorId)),
  }));

  api.get('/events', async (request, reply) => {
    if (openStreams.size >= MAX_EVENT_STREAMS) {
      // The limit protects the database; the page's reconnect after Retry-After will find a free slot.
      reply.header('retry-after', '30');
      throw new ApiError('RateLimited', `at most ${MAX_EVENT_STREAMS} event streams are open at once`);
    }
    const operatorId = request.principal!.operatorId;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    openStreams.add(reply);
    let last = '';
    let lastWriteAt = Date.now();
    let busy = false;
    let eventId = 0;
    const tick = async () => {
      if (busy || raw.destroyed) return;
      busy = true;
      try {
        const body = JSON.stringify(await snapshotFor(operatorId));
        if (body !== last) {
          last = body;
          eventId += 1;
          raw.write(`id: ${eventId}\nevent: snapshot\ndata: ${body}\n\n`);
          lastWriteAt = Date.now();
        } else if (Date.now() - lastWriteAt >= KEEPALIVE_INTERVAL_MS) {
          raw.write(': keepalive\n\n');
          lastWriteAt = Date.now();
        }
      } catch (error) {
        request.log.warn({ err: error }, 'live snapshot failed');
        raw.write(`event: error\ndata: ${JSON.stringify({ message: 'snapshot failed; retrying' })}\n\n`);
      } finally {
        busy = false;
      }
    };
    raw.write(`retry: ${LIVE_POLL_INTERVAL_MS}\n\n`);
    const timer = setInterval(tick, LIVE_POLL_INTERVAL_MS);
    const stop = () => {
      clearInterval(timer);
      openStreams.delete(reply);
    };
    request.raw.on('close', stop);
    raw.on('close', stop);
    await tick();
  });

  // A server shutting down ends the streams first, so that close() does not wait for browsers to hang up.
  api.addHook('preClose', async () => {
    for (const reply of openStreams) reply.raw.end();
    openStreams.clear();
  });
}
