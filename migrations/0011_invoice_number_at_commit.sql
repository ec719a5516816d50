-- Per-session invoices numbered at commit (issue 10, end-to-end throughput).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- Gapless numbering locks the series' counter row until the issuing transaction ends, so the invoices of one
-- operator are issued one transaction at a time. A session's invoice is issued inside its stop's transaction,
-- which then books the ledger transfer and queues the capture: when the number was taken in the middle of it,
-- every later statement and the commit itself ran while holding the counter, and the stops of an operator were
-- serialized on all of that. Now the stop inserts its invoice without a number and the deferred trigger below
-- numbers it at COMMIT, as the last thing the transaction does: the counter is held only for the trigger and the
-- commit's WAL flush. The number still commits or rolls back with its invoice (no gap, no duplicate); no
-- committed invoice is ever without its number (the trigger runs in the committing transaction or the commit
-- fails). Statements and credit notes keep taking their number immediately (their callers print it).

alter table invoices alter column number drop not null;
alter table invoices alter column invoice_number drop not null;
alter table invoices add constraint invoices_number_pair check ((number is null) = (invoice_number is null));

-- Invoices stay append-only, with one exception: an invoice inserted without a number (inside the transaction
-- that is issuing it) receives its number once, and nothing else of it changes. A committed invoice always has a
-- number, so after commit this allows nothing.
create function voltbill_invoices_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and old.number is null and new.number is not null
     and (to_jsonb(new) - array['number', 'invoice_number', 'document'])
         = (to_jsonb(old) - array['number', 'invoice_number', 'document'])
     and (new.document - 'invoiceNumber') = (old.document - 'invoiceNumber')
     and new.document ->> 'invoiceNumber' = new.invoice_number then
    return new;
  end if;
  raise exception 'table % is append-only: % refused', tg_table_name, tg_op using errcode = 'P0001';
end
$$;
drop trigger invoices_append_only on invoices;
create trigger invoices_append_only before update or delete on invoices
  for each row execute function voltbill_invoices_append_only();

-- Takes the series' next number (the same counter and format as src/billing/invoices/invoice-numbers.ts: series,
-- a hyphen, the number padded to 8 digits) and writes it into the invoice and its document.
create function voltbill_number_invoice_at_commit() returns trigger language plpgsql as $$
declare
  taken bigint;
  formatted text;
begin
  insert into invoice_counters (operator_id, series, next_number) values (new.operator_id, new.series, 2)
  on conflict (operator_id, series) do update set next_number = invoice_counters.next_number + 1
  returning next_number - 1 into taken;
  formatted := new.series || '-' || case when length(taken::text) >= 8 then taken::text
                                         else lpad(taken::text, 8, '0') end;
  update invoices
     set number = taken,
         invoice_number = formatted,
         document = jsonb_set(document, '{invoiceNumber}', to_jsonb(formatted))
   where id = new.id;
  return null;
end
$$;
create constraint trigger invoices_number_at_commit after insert on invoices
  deferrable initially deferred
  for each row when (new.number is null)
  execute function voltbill_number_invoice_at_commit();
