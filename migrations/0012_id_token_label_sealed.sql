-- Id token labels as personal data (issue 7, encryption at rest).
-- Forward-only: a later change is a new file, never an edit of this one.
--
-- A driver's card label is often the driver's name. From now on the API stores it sealed by the field cipher
-- (context 'id_tokens.label', `vbe1.` prefix), and labels written before stay as they were: readers open a sealed
-- value and show a clear one as it is. The label also named the anonymous buyer of an invoice (`<label> (<uid>)`),
-- and an invoice is issued inside the stop's transaction without a key (invoice-buyer-cipher.ts); so the buyer name
-- is sealed when the label is written, under the invoice buyer name's context, and issuing copies it unchanged.
alter table id_tokens add column anonymous_buyer_name text;
