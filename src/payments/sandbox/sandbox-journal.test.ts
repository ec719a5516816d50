import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendJournal, emptyJournalState, type JournalState, loadJournal } from './sandbox-journal.ts';

describe('SANDBOX state journal', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-journal-'));
    file = path.join(dir, 'state');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('replays the lines, the last of a record winning, with amounts kept as bigint and the highest id counter', () => {
    const state = emptyJournalState<JournalState>();
    state.seq = 3;
    state.payments.p1 = { status: 'authorized', amount: 5000n };
    appendJournal(file, state, [['payments', 'p1']]);
    state.seq = 4;
    state.payments.p1 = { status: 'captured', amount: 1234n };
    state.idempotency.k1 = { paymentId: 'p1' };
    appendJournal(file, state, [
      ['payments', 'p1'],
      ['idempotency', 'k1'],
    ]);
    expect(lines()).toHaveLength(3);
    expect(loadJournal(file)).toEqual({
      seq: 4,
      customers: {},
      methods: {},
      payments: { p1: { status: 'captured', amount: 1234n } },
      idempotency: { k1: { paymentId: 'p1' } },
    });
  });

  it('is empty without a file', () => {
    expect(loadJournal(file)).toEqual(emptyJournalState());
  });

  it('drops a last line cut short by a crash, and compacts so that the next append starts on its own line', () => {
    const state = emptyJournalState<JournalState>();
    state.seq = 1;
    state.payments.p1 = { status: 'authorized' };
    appendJournal(file, state, [['payments', 'p1']]);
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":2,"t":"payments","id":"p2","v":{"sta`);

    const loaded = loadJournal(file);
    expect(loaded.payments).toEqual({ p1: { status: 'authorized' } });
    expect(loaded.seq).toBe(1);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    loaded.payments.p3 = { status: 'voided' };
    appendJournal(file, loaded, [['payments', 'p3']]);
    expect(Object.keys(loadJournal(file).payments)).toEqual(['p1', 'p3']);
  });

  it('refuses a damaged line that is not the last, naming it, rather than guess', () => {
    writeFileSync(
      file,
      '{"seq":1,"t":"payments","id":"p1","v":{}}\nnot json\n{"seq":2,"t":"payments","id":"p2","v":{}}\n',
    );
    expect(() => loadJournal(file)).toThrow(/line 2 is not JSON/);
    writeFileSync(file, '{"seq":1,"t":"secrets","id":"p1","v":{}}\n{"seq":1,"t":"payments","id":"p1","v":{}}\n');
    expect(() => loadJournal(file)).toThrow(/line 1 is not a journal record/);
  });

  it('compacts a file with more than twice the lines of its live records to one line per record', () => {
    const state = emptyJournalState<JournalState>();
    for (let n = 0; n < 1500; n++) {
      state.seq = n;
      state.payments.p1 = { version: n };
      appendJournal(file, state, [['payments', 'p1']]);
    }
    expect(lines()).toHaveLength(1500);
    expect(loadJournal(file).payments).toEqual({ p1: { version: 1499 } });
    expect(lines()).toEqual(['{"seq":1499,"t":"payments","id":"p1","v":{"version":1499}}']);
  });

  it('reads the whole-state file of earlier versions and rewrites it as a journal', () => {
    const legacy = {
      seq: 7,
      customers: { c1: { name: 'A' } },
      methods: {},
      payments: { p1: { status: 'captured', amount: { $bigint: '900' } } },
      idempotency: {},
    };
    writeFileSync(file, JSON.stringify(legacy));
    const loaded = loadJournal(file);
    expect(loaded).toEqual({ ...legacy, payments: { p1: { status: 'captured', amount: 900n } } });
    expect(lines()).toHaveLength(2);
    expect(loadJournal(file)).toEqual(loaded);
  });
});
