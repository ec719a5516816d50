import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { configTableMarkdown } from './config-table.ts';

describe('loadConfig', () => {
  it('works with no settings at all (embedded mode)', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      dataDir: '/srv/app/.voltbill',
      databaseUrl: undefined,
      ocppPort: 9000,
      httpPort: 8080,
      autoRegisterStations: false,
      rounding: 'half-up',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable, including port 0 for a free port', () => {
    const config = loadConfig({
      VOLTBILL_DATA_DIR: '/data/vb',
      DATABASE_URL: 'postgres://u@db:5432/voltbill',
      VOLTBILL_OCPP_PORT: '0',
      VOLTBILL_HTTP_PORT: '0',
      VOLTBILL_AUTO_REGISTER_STATIONS: 'true',
      VOLTBILL_ROUNDING: 'half-even',
    });
    expect(config).toMatchObject({
      dataDir: '/data/vb',
      databaseUrl: 'postgres://u@db:5432/voltbill',
      ocppPort: 0,
      httpPort: 0,
      autoRegisterStations: true,
      rounding: 'half-even',
    });
  });

  it('stops with a message naming each invalid variable', () => {
    const attempt = () =>
      loadConfig({ VOLTBILL_OCPP_PORT: '70000', DATABASE_URL: 'mysql://x', VOLTBILL_ROUNDING: 'up' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/VOLTBILL_OCPP_PORT="70000"/);
    expect(attempt).toThrow(/DATABASE_URL="mysql:\/\/x": must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(attempt).toThrow(/VOLTBILL_ROUNDING="up"/);
  });

  it('reads the PostgreSQL pool size (default 10) and refuses one outside 1..1000', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ VOLTBILL_DATABASE_POOL_SIZE: '4' }).databasePoolSize).toBe(4);
    for (const bad of ['0', '1001', 'four', '2.5']) {
      expect(() => loadConfig({ VOLTBILL_DATABASE_POOL_SIZE: bad })).toThrow(`VOLTBILL_DATABASE_POOL_SIZE="${bad}"`);
    }
  });

  it('is documented in the README, table generated from the schema', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = /<!-- config-table:start -->\n([\s\S]*)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(table, `README.md's configuration table must be:\n${configTableMarkdown()}`).toBe(configTableMarkdown());
  });
});
