import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyJournalState, type JournalState, loadJournal, openJournal } from './sandbox-journal.ts';

describe('SANDBOX state journal', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-journal-'));
    file = path.join(dir, 'state');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('replays the lines, the last value of a record winning, with bigint amounts and the highest id counter', () => {
    const { state, append } = openJournal<JournalState>(file);
    state.seq = 3;
    state.payments.p1 = { status: 'authorized', amount: 5000n };
    append([['payments', 'p1']]);
    state.seq = 4;
    state.payments.p1 = { status: 'captured', amount: 1234n };
    state.idempotency.k1 = { paymentId: 'p1' };
    append([
      ['payments', 'p1'],
      ['idempotency', 'k1'],
    ]);
    append([]);
    expect(lines()).toHaveLength(2);
    expect(loadJournal(file)).toEqual({
      seq: 4,
      customers: {},
      methods: {},
      payments: { p1: { status: 'captured', amount: 1234n } },
      idempotency: { k1: { paymentId: 'p1' } },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('is empty without a file', () => {
    expect(loadJournal(file)).toEqual(emptyJournalState());
  });

  it('loses a change cut short by a crash whole (a key never without its payment), and appends on a fresh line', () => {
    const first = openJournal<JournalState>(file);
    first.state.seq = 1;
    first.state.methods.m1 = { token: 'm1' };
    first.append([['methods', 'm1']]);
    // The next change (a payment and the idempotency key naming it), cut short inside the payment's value.
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"seq":2,"r":[["payments","p2",{"sta`);

    const second = openJournal<JournalState>(file);
    expect(second.state).toMatchObject({ seq: 1, methods: { m1: { token: 'm1' } }, payments: {}, idempotency: {} });
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    second.state.payments.p3 = { status: 'voided' };
    second.append([['payments', 'p3']]);
    expect(Object.keys(loadJournal(file).payments)).toEqual(['p3']);
  });

  it('starts from a file whose only line was cut short (the first change of a fresh data folder)', () => {
    writeFileSync(file, '{"seq":1,"r":[["methods","m1",{"tok');
    expect(loadJournal(file)).toEqual(emptyJournalState());
    expect(readFileSync(file, 'utf8')).toBe('');
  });

  it('cuts a failed append back, so that no partial line is left before the next one', () => {
    let failNext = false;
    const journal = openJournal<JournalState>(file, {
      appendFile(target, text) {
        if (!failNext) return writeFileSync(target, text, { flag: 'a', mode: 0o600 });
        // A full disk: part of the line is written, then the write fails.
        writeFileSync(target, text.slice(0, 10), { flag: 'a' });
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    journal.state.payments.p1 = { n: 1 };
    journal.append([['payments', 'p1']]);
    failNext = true;
    journal.state.payments.p2 = { n: 2 };
    expect(() => journal.append([['payments', 'p2']])).toThrow(/ENOSPC/);
    failNext = false;
    journal.append([['payments', 'p2']]);
    expect(loadJournal(file).payments).toEqual({ p1: { n: 1 }, p2: { n: 2 } });
  });

  it('refuses a damaged line that is not the last, naming it, rather than guess', () => {
    writeFileSync(file, '{"seq":1,"r":[["payments","p1",{}]]}\nnot json\n{"seq":2,"r":[["payments","p2",{}]]}\n');
    expect(() => loadJournal(file)).toThrow(/line 2 is not JSON/);
    writeFileSync(file, '{"seq":1,"r":[["secrets","p1",{}]]}\n{"seq":1,"r":[["payments","p1",{}]]}\n');
    expect(() => loadJournal(file)).toThrow(/line 1 is not a journal record/);
  });

  it('compacts a file with more than twice the lines of its live records to one line per record, mode 0600', () => {
    const { state, append } = openJournal<JournalState>(file);
    for (let n = 0; n < 1500; n++) {
      state.seq = n;
      state.payments.p1 = { version: n };
      append([['payments', 'p1']]);
    }
    expect(lines()).toHaveLength(1500);
    // A temporary file left by a crash during an earlier compaction, readable by all: not reused.
    writeFileSync(`${file}.tmp`, 'stale', { mode: 0o644 });
    expect(loadJournal(file).payments).toEqual({ p1: { version: 1499 } });
    expect(lines()).toEqual(['{"seq":1499,"r":[["payments","p1",{"version":1499}]]}']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
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
