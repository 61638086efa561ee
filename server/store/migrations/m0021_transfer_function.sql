-- Immediate internal transfers in one statement: bank_post_transfers (m0021).
-- Statements are separated by lines holding only "-- next"; no literal
-- percent sign anywhere (the migration runner hands the text to psycopg2).

-- The rules' figures the function needs, as the domain holds them
-- (server.domain.money, limits, limit_checks, movements, server.store.bootstrap).
-- tests/store/test_transfer_function_figures.py compares every figure with
-- the Python constants: a change there needs a migration that replaces this.
CREATE FUNCTION bank_transfer_constants() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT '{
  "exponents": {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "JPY": 0},
  "limits_major": {
    "SAVINGS": {"daily_transfer": 5000, "monthly_transfer": 20000},
    "CHECKING": {"daily_transfer": 10000, "monthly_transfer": 50000},
    "BUSINESS": {"daily_transfer": 50000, "monthly_transfer": 500000}
  },
  "per_transaction_internal_transfer_max_major": 10000,
  "per_transaction_min_cents": 1,
  "transfer_usage_classes": ["EXTERNAL_TRANSFER", "TRANSFER"],
  "warning_percent": 80,
  "overdraft_fee_minor": 3500,
  "overdraft_types": ["BUSINESS", "CHECKING"],
  "fee_income_accounts": {
    "USD": "acc_4nauslgkxyrfaqebwwn6",
    "EUR": "acc_vxhi2x67yg3li5r4fsaa",
    "GBP": "acc_bb5ot67bamo3elzbwfdy",
    "CAD": "acc_56nbxnm5xujieaoupbdc",
    "JPY": "acc_yrftn3for5xr5bgagqcf"
  }
}'::jsonb
$$;
-- next
-- The wire value of `minor` (server.domain.money.to_major) as Python writes
-- that float in JSON: the shortest decimal, at least one decimal digit.
-- Neither STRICT nor with a FROM: the planner inlines it.
CREATE FUNCTION bank_major_text(minor bigint, places integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN places = 0 THEN minor::text || '.0'
    ELSE rtrim(round(minor::numeric / (10::numeric ^ places), places)::text, '0')
         || CASE WHEN right(rtrim(round(minor::numeric / (10::numeric ^ places), places)::text,
                                  '0'), 1) = '.'
                 THEN '0' ELSE '' END
END
$$;
-- next
-- A transaction.* outbox payload (server.store.outbox.emit_many of
-- server.domain.movement_events.transaction_data), keys sorted as json.dumps
-- sorts them. STABLE as to_json is: the planner then inlines both helpers
-- into the statements that call them.
CREATE FUNCTION bank_transaction_event(
    event_id text, event_type text, stamp text, transaction_id text, number text,
    account_id text, amount_text text, currency text, type_ text, status text
) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT '{"data": {"accountId": ' || to_json(account_id)::text
    || ', "amount": ' || amount_text
    || ', "currency": ' || to_json(currency)::text
    || ', "status": ' || to_json(status)::text
    || ', "transactionId": ' || to_json(transaction_id)::text
    || ', "transactionNumber": ' || to_json(number)::text
    || ', "type": ' || to_json(type_)::text
    || '}, "event": ' || to_json(event_type)::text
    || ', "id": ' || to_json(event_id)::text
    || ', "timestamp": ' || to_json(stamp)::text || '}'
$$;
-- next
-- Posts immediate transfers between customer accounts, each exactly as
-- server.services.transfers.transfer does (its `work`, then `execute`).
--
-- `items`: a JSON array built by server.store.transfer_function; `moment`:
-- the server's now (naive UTC). Returns {"accounts": {id: row as locked,
-- with "owner_name"}, "items": [one result per item, in item order]}; a
-- result is {"ok": ...}, {"error": kind, ...facts} or {"fallback": reason}.
--
-- First every customer account any item names is locked, once, in id order
-- (server.store.ledger's lock order), so batches never wait in a cycle. Then
-- each item is checked, in the Python path's order, and posted. A refusal
-- ends its item before anything of it is written, so it never touches its
-- neighbours; the two checks that write or may fail in the database run in
-- a block with an exception handler (a subtransaction), which undoes them
-- for that item alone: the release of the source's due holds, followed by
-- the funds check (a refusal raises SQLSTATE BK001 and undoes the release),
-- and reading stored limit overrides (a value that does not read falls back).
-- Blocks are only entered when the account has holds or overrides: a
-- subtransaction per item would cost about a tenth of the function's time.
-- Balances move item by item (the next items check them); the rows are
-- written at the end, one statement per table, in the order the Python path
-- writes them (each fee's postings after every transfer's). The fee income
-- accounts are moved last, once per account in id order, for the same
-- reason as the lock.
CREATE FUNCTION bank_post_transfers(items jsonb, moment timestamp) RETURNS json
LANGUAGE plpgsql
-- Its statements keep one generic plan each instead of being planned again
-- on every call (PL/pgSQL's custom plans, chosen by cost): planning was a
-- sixth of a one-transfer call's database CPU, and each statement's plan
-- is the same whatever the batch holds (by key, or over the batch's arrays).
-- tests/store/test_transfer_function_plan.py checks the accounts are still
-- read by key.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    k jsonb := bank_transfer_constants();
    -- every account the call names; an array, so that the lock below reads
    -- them by primary key (a set-returning function in the lock's own
    -- WHERE is estimated at 100 rows and planned as a scan of every account)
    named text[] := ARRAY(SELECT DISTINCT v FROM jsonb_array_elements(items) AS e,
                          LATERAL (VALUES (e->>'from'), (e->>'to')) AS ids(v)
                          WHERE v IS NOT NULL);
    warning bigint := (k->>'warning_percent')::bigint;
    overdraft_fee bigint := (k->>'overdraft_fee_minor')::bigint;
    day_key text := 'D' || to_char(moment, 'YYYY-MM-DD');
    month_key text := 'M' || to_char(moment, 'YYYY-MM');
    stamp text := to_char(moment, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN to_char(moment, 'US') = '000000' THEN '' ELSE '.' || to_char(moment, 'US') END
        || 'Z';
    day_text text := to_char(moment, 'YYYYMMDD');
    base json;
    owners jsonb;
    results jsonb[] := '{}';
    -- fees waiting for their income account: [fee txn, customer account,
    -- income account, customer balance after, amount, currency] per fee
    fees jsonb[] := '{}';
    item jsonb;
    outcome jsonb;
    events jsonb;
    f text;
    t text;
    src accounts;
    dst accounts;
    src_holder text;
    dst_holder text;
    sequence_value bigint;
    number text;
    fee_number text;
    cur text;
    places integer;
    scale bigint;
    amount bigint;
    limits_major jsonb;
    overrides jsonb;
    limit_name text;
    per_min bigint;
    per_max bigint;
    daily_limit bigint;
    monthly_limit bigint;
    daily_used bigint;
    monthly_used bigint;
    released bigint;
    refused boolean;
    fee bigint;
    src_after bigint;
    dst_after bigint;
    fee_after bigint;
    threshold bigint;
    limit_value bigint;
    used_value bigint;
    amount_text text;
    fee_txn text;
    income text;
    income_total bigint;
    income_after bigint;
    fee_entry jsonb;
    -- the batch's rows, written together at the end (columns in table order;
    -- the ids of serial columns are left to their sequences)
    txn_rows ledger_transactions[] := '{}';
    posting_rows postings[] := '{}';
    entry_rows account_entries[] := '{}';
    usage_rows limit_usage[] := '{}';
    event_rows outbox_events[] := '{}';
BEGIN
    -- The lock, and the locked rows with their owners' names: FOR UPDATE
    -- hands back each row as it is once locked, in id order.
    SELECT coalesce(json_object_agg(r.id, row_to_json(r)), '{}'::json),
           coalesce(jsonb_object_agg(r.id, r.owner_name), '{}'::jsonb)
      INTO base, owners
      FROM (SELECT a.*, u.name AS owner_name
              FROM accounts a LEFT JOIN users u ON u.id = a.owner_id
             WHERE a.kind = 'CUSTOMER' AND a.id = ANY(named)
             ORDER BY a.id FOR UPDATE OF a) AS r;

    FOR i IN 0 .. jsonb_array_length(items) - 1 LOOP
        item := items->i;
        f := item->>'from';
        t := item->>'to';
        events := item->'events';
        -- The number is taken first, refused or not, as the lock takes it.
        sequence_value := nextval('transaction_numbers');
        number := 'TXN' || day_text || lpad(sequence_value::text, greatest(3, length(sequence_value::text)), '0');
        outcome := NULL;
        fee := 0;
        <<checks>>
        BEGIN
            SELECT * INTO src FROM accounts WHERE id = f AND kind = 'CUSTOMER';
            IF NOT FOUND OR (item->>'viewer' IS NOT NULL
                             AND src.owner_id IS DISTINCT FROM item->>'viewer') THEN
                outcome := jsonb_build_object('error', 'not_found', 'field', 'fromAccountId');
                EXIT checks;
            END IF;
            SELECT * INTO dst FROM accounts WHERE id = t AND kind = 'CUSTOMER';
            IF NOT FOUND THEN
                outcome := jsonb_build_object('error', 'not_found', 'field', 'toAccountId');
                EXIT checks;
            END IF;
            cur := coalesce(nullif(item->>'currency', ''), src.currency);
            IF cur <> src.currency THEN
                outcome := jsonb_build_object('error', 'currency');
                EXIT checks;
            END IF;
            places := (k->'exponents'->>cur)::integer;
            IF places IS NULL THEN
                outcome := jsonb_build_object('fallback', 'unsupported currency');
                EXIT checks;
            END IF;
            amount := (item->'minor'->>places::text)::bigint;
            IF amount IS NULL THEN
                outcome := jsonb_build_object('error', 'amount', 'currency', cur);
                EXIT checks;
            END IF;
            IF cur <> dst.currency THEN
                outcome := jsonb_build_object('error', 'destination_currency', 'currency', cur);
                EXIT checks;
            END IF;
            IF NOT coalesce((item->>'can_write')::boolean, false) THEN
                outcome := jsonb_build_object('error', 'read_only');
                EXIT checks;
            END IF;
            IF src.status <> 'ACTIVE' THEN
                outcome := jsonb_build_object('error', 'inactive', 'field', 'fromAccountId');
                EXIT checks;
            END IF;
            IF dst.status <> 'ACTIVE' THEN
                outcome := jsonb_build_object('error', 'inactive', 'field', 'toAccountId');
                EXIT checks;
            END IF;

            -- limits.stored_limits: the type's defaults, the overrides on top
            limits_major := k->'limits_major'->src.type;
            IF limits_major IS NULL THEN
                outcome := jsonb_build_object('fallback', 'account type without limits');
                EXIT checks;
            END IF;
            scale := (10::bigint ^ places)::bigint;
            per_min := greatest(1, (k->>'per_transaction_min_cents')::bigint * scale / 100);
            per_max := (k->>'per_transaction_internal_transfer_max_major')::bigint * scale;
            daily_limit := (limits_major->>'daily_transfer')::bigint * scale;
            monthly_limit := (limits_major->>'monthly_transfer')::bigint * scale;
            IF src.limit_overrides NOT IN ('', '{}') THEN
                BEGIN
                    overrides := src.limit_overrides::jsonb;
                    -- limits.parse_overrides reads whole numbers; anything else falls back
                    IF jsonb_typeof(overrides) <> 'object' OR EXISTS (
                        SELECT 1 FROM jsonb_each(overrides) AS o
                         WHERE jsonb_typeof(o.value) <> 'number' OR o.value::text !~ '^-?[0-9]+$'
                    ) THEN
                        outcome := jsonb_build_object('fallback', 'unreadable limit overrides');
                        EXIT checks;
                    END IF;
                    per_max := coalesce((overrides->>'per_transaction_internal_transfer_max')::bigint, per_max);
                    daily_limit := coalesce((overrides->>'daily_transfer')::bigint, daily_limit);
                    monthly_limit := coalesce((overrides->>'monthly_transfer')::bigint, monthly_limit);
                EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
                    outcome := jsonb_build_object('fallback', 'unreadable limit overrides');
                    EXIT checks;
                END;
            END IF;
            IF amount < per_min OR amount > per_max THEN
                outcome := jsonb_build_object('error', 'per_transaction', 'amount_minor', amount);
                EXIT checks;
            END IF;
            SELECT coalesce(sum(used_minor) FILTER (WHERE period = day_key), 0),
                   coalesce(sum(used_minor) FILTER (WHERE period = month_key), 0)
              INTO daily_used, monthly_used
              FROM limit_usage
             WHERE account_id = src.id AND period IN (day_key, month_key)
               AND (k->'transfer_usage_classes') ? limit_class;
            IF daily_used + amount > daily_limit OR monthly_used + amount > monthly_limit THEN
                outcome := jsonb_build_object('error', 'limit', 'amount_minor', amount,
                                              'daily_used', daily_used, 'monthly_used', monthly_used);
                EXIT checks;
            END IF;

            -- History rows carry the holders' names in lower case: Python's
            -- str.lower and the database's lower() agree on ASCII only.
            src_holder := CASE WHEN src.owner_id IS NULL THEN src.name
                               ELSE coalesce(owners->>f, '') END;
            dst_holder := CASE WHEN dst.owner_id IS NULL THEN dst.name
                               ELSE coalesce(owners->>t, '') END;
            IF octet_length(src_holder) <> length(src_holder)
               OR octet_length(dst_holder) <> length(dst_holder) THEN
                outcome := jsonb_build_object('fallback', 'holder name beyond ASCII');
                EXIT checks;
            END IF;

            -- movements.debit_fees (after steps.holds_released when the
            -- source has holds: a refusal then undoes the release, as the
            -- Python path's rollback does)
            IF src.held_minor = 0 THEN
                fee := CASE WHEN src.balance_minor - amount < 0
                                 AND (k->'overdraft_types') ? src.type
                            THEN overdraft_fee ELSE 0 END;
                refused := amount + fee > src.balance_minor - src.held_minor
                                          - src.pending_debits_minor + src.overdraft_limit_minor;
            ELSE
                BEGIN
                    WITH due AS (
                        SELECT id FROM holds
                         WHERE account_id = src.id AND status = 'PENDING' AND release_at <= moment
                         ORDER BY account_id, id FOR UPDATE SKIP LOCKED
                    ), ended AS (
                        UPDATE holds h SET status = 'RELEASED', resolved_at = moment
                          FROM due WHERE h.id = due.id RETURNING h.amount_minor
                    )
                    SELECT coalesce(sum(amount_minor), 0) INTO released FROM ended;
                    IF released <> 0 THEN
                        UPDATE accounts SET held_minor = held_minor - released
                         WHERE id = src.id RETURNING * INTO src;
                    END IF;
                    fee := CASE WHEN src.balance_minor - amount < 0
                                     AND (k->'overdraft_types') ? src.type
                                THEN overdraft_fee ELSE 0 END;
                    refused := amount + fee > src.balance_minor - src.held_minor
                                              - src.pending_debits_minor + src.overdraft_limit_minor;
                    IF refused THEN
                        RAISE SQLSTATE 'BK001';
                    END IF;
                EXCEPTION WHEN SQLSTATE 'BK001' THEN
                    NULL;  -- `src` keeps the figures the refusal was decided on
                END;
            END IF;
            IF refused THEN
                outcome := jsonb_build_object(
                    'error', 'funds', 'amount_minor', amount, 'balance', src.balance_minor,
                    'held', src.held_minor, 'pending_debits', src.pending_debits_minor,
                    'overdraft_limit', src.overdraft_limit_minor);
            END IF;
        END checks;
        IF outcome IS NOT NULL THEN
            results := array_append(results, outcome);
            CONTINUE;
        END IF;

        -- The transfer (transfers.execute with new=True): the balances move
        -- now (the next items check them); its rows are written with the
        -- batch's, at the end, in the order the Python path writes them.
        txn_rows := array_append(txn_rows, ROW(
            item->>'id', number, 'TRANSFER', 'COMPLETED', cur, amount, 0, item->>'description',
            item->>'reference', item->>'details', moment, moment, f, t, item->>'client_id',
            NULL, NULL, NULL, NULL)::ledger_transactions);
        IF f < t THEN
            UPDATE accounts SET balance_minor = balance_minor - amount WHERE id = f
                RETURNING balance_minor INTO src_after;
            UPDATE accounts SET balance_minor = balance_minor + amount WHERE id = t
                RETURNING balance_minor INTO dst_after;
            posting_rows := array_append(posting_rows,
                ROW(NULL, item->>'id', f, cur, -amount, src_after, moment)::postings);
            posting_rows := array_append(posting_rows,
                ROW(NULL, item->>'id', t, cur, amount, dst_after, moment)::postings);
        ELSE
            UPDATE accounts SET balance_minor = balance_minor + amount WHERE id = t
                RETURNING balance_minor INTO dst_after;
            UPDATE accounts SET balance_minor = balance_minor - amount WHERE id = f
                RETURNING balance_minor INTO src_after;
            posting_rows := array_append(posting_rows,
                ROW(NULL, item->>'id', t, cur, amount, dst_after, moment)::postings);
            posting_rows := array_append(posting_rows,
                ROW(NULL, item->>'id', f, cur, -amount, src_after, moment)::postings);
        END IF;
        entry_rows := array_append(entry_rows, ROW(
            NULL, f, item->>'id', 'DEBIT', 'TRANSFER', 'COMPLETED', 'TRANSFER', cur, amount, 0,
            src_after, dst_holder,
            concat_ws(' ', lower(number), nullif(item->>'search', ''), nullif(lower(dst_holder), '')),
            moment)::account_entries);
        entry_rows := array_append(entry_rows, ROW(
            NULL, t, item->>'id', 'CREDIT', 'TRANSFER', 'COMPLETED', '', cur, amount, 0,
            dst_after, src_holder,
            concat_ws(' ', lower(number), nullif(item->>'search', ''), nullif(lower(src_holder), '')),
            moment)::account_entries);
        usage_rows := array_append(usage_rows, ROW(f, 'TRANSFER', day_key, amount)::limit_usage);
        usage_rows := array_append(usage_rows, ROW(f, 'TRANSFER', month_key, amount)::limit_usage);
        amount_text := bank_major_text(amount, places);
        event_rows := array_append(event_rows, ROW(
            NULL, events->>0, 'transaction.created', item->>'id',
            bank_transaction_event(events->>0, 'transaction.created', stamp, item->>'id',
                                   number, f, amount_text, cur, 'TRANSFER', 'PROCESSING'),
            moment, NULL)::outbox_events);
        event_rows := array_append(event_rows, ROW(
            NULL, events->>1, 'transaction.completed', item->>'id',
            bank_transaction_event(events->>1, 'transaction.completed', stamp, item->>'id',
                                   number, f, amount_text, cur, 'TRANSFER', 'COMPLETED'),
            moment, NULL)::outbox_events);
        -- limit.approaching (limit_checks.approaching), daily then monthly
        FOR j IN 0 .. 1 LOOP
            limit_name := CASE j WHEN 0 THEN 'daily_transfer' ELSE 'monthly_transfer' END;
            limit_value := CASE j WHEN 0 THEN daily_limit ELSE monthly_limit END;
            used_value := CASE j WHEN 0 THEN daily_used ELSE monthly_used END;
            threshold := limit_value * warning / 100;
            IF limit_value <> 0 AND used_value < threshold AND threshold <= used_value + amount THEN
                event_rows := array_append(event_rows, ROW(
                    NULL, events->>(2 + j), 'limit.approaching', f,
                    '{"data": {"accountId": ' || to_json(f)::text
                    || ', "limit": ' || to_json(limit_name)::text
                    || ', "limitAmount": ' || bank_major_text(limit_value, places)
                    || ', "percent": ' || ((used_value + amount) * 100 / limit_value)::text
                    || ', "usedAmount": ' || bank_major_text(used_value + amount, places)
                    || '}, "event": "limit.approaching", "id": ' || to_json(events->>(2 + j))::text
                    || ', "timestamp": ' || to_json(stamp)::text || '}',
                    moment, NULL)::outbox_events);
            END IF;
        END LOOP;

        -- The overdraft fee: a FEE transaction of its own (steps.charge_overdraft_fee).
        fee_number := NULL;
        fee_after := src_after;
        IF fee <> 0 THEN
            sequence_value := nextval('transaction_numbers');
            fee_number := 'TXN' || day_text
                || lpad(sequence_value::text, greatest(3, length(sequence_value::text)), '0');
            fee_txn := item->>'fee_id';
            income := k->'fee_income_accounts'->>cur;
            txn_rows := array_append(txn_rows, ROW(
                fee_txn, fee_number, 'FEE', 'COMPLETED', cur, fee, 0,
                'Overdraft fee (' || number || ')', '', '{"fee_kind": "OVERDRAFT"}', moment,
                moment, f, NULL, NULL, item->>'id', NULL, NULL, NULL)::ledger_transactions);
            UPDATE accounts SET balance_minor = balance_minor - fee WHERE id = f
                RETURNING balance_minor INTO fee_after;
            fees := array_append(fees, jsonb_build_array(fee_txn, f, income, fee_after, fee, cur));
            entry_rows := array_append(entry_rows, ROW(
                NULL, f, fee_txn, 'DEBIT', 'FEE', 'COMPLETED', '', cur, fee, 0, fee_after,
                'Overdraft fee',
                lower(fee_number) || ' overdraft fee (' || lower(number) || ') overdraft fee',
                moment)::account_entries);
            amount_text := bank_major_text(fee, places);
            event_rows := array_append(event_rows, ROW(
                NULL, events->>4, 'transaction.created', fee_txn,
                bank_transaction_event(events->>4, 'transaction.created', stamp, fee_txn,
                                       fee_number, f, amount_text, cur, 'FEE', 'COMPLETED'),
                moment, NULL)::outbox_events);
            event_rows := array_append(event_rows, ROW(
                NULL, events->>5, 'transaction.completed', fee_txn,
                bank_transaction_event(events->>5, 'transaction.completed', stamp, fee_txn,
                                       fee_number, f, amount_text, cur, 'FEE', 'COMPLETED'),
                moment, NULL)::outbox_events);
        END IF;
        -- What the source and destination hold now: [balance, held].
        results := array_append(results, jsonb_build_object(
            'ok', jsonb_build_object(
                'number', number, 'amount_minor', amount, 'currency', cur,
                'balances_after', jsonb_build_object(f, src_after, t, dst_after),
                'accounts', jsonb_build_object(
                    f, jsonb_build_array(fee_after, src.held_minor),
                    t, jsonb_build_array(dst_after, dst.held_minor)),
                'fee_number', fee_number)));
    END LOOP;

    IF cardinality(txn_rows) = 0 THEN
        RETURN json_build_object('accounts', base, 'items', array_to_json(results));
    END IF;
    -- The fee income accounts, in id order, each moved once by all its fees;
    -- then each fee's two postings (in account id order) with the balances
    -- after them, after every transfer's.
    FOR income, income_total IN
        SELECT e->>2, sum((e->>4)::bigint) FROM unnest(fees) AS e GROUP BY 1 ORDER BY 1
    LOOP
        UPDATE accounts SET balance_minor = balance_minor + income_total WHERE id = income
            RETURNING balance_minor INTO income_after;
        income_after := income_after - income_total;
        FOREACH fee_entry IN ARRAY fees LOOP
            CONTINUE WHEN fee_entry->>2 <> income;
            fee := (fee_entry->>4)::bigint;
            income_after := income_after + fee;
            IF fee_entry->>1 < income THEN
                posting_rows := array_append(posting_rows, ROW(
                    NULL, fee_entry->>0, fee_entry->>1, fee_entry->>5, -fee,
                    (fee_entry->>3)::bigint, moment)::postings);
                posting_rows := array_append(posting_rows, ROW(
                    NULL, fee_entry->>0, income, fee_entry->>5, fee, income_after, moment)::postings);
            ELSE
                posting_rows := array_append(posting_rows, ROW(
                    NULL, fee_entry->>0, income, fee_entry->>5, fee, income_after, moment)::postings);
                posting_rows := array_append(posting_rows, ROW(
                    NULL, fee_entry->>0, fee_entry->>1, fee_entry->>5, -fee,
                    (fee_entry->>3)::bigint, moment)::postings);
            END IF;
        END LOOP;
    END LOOP;
    -- The batch's rows, one statement per table (serial ids in item order).
    INSERT INTO ledger_transactions
        (id, number, type, status, currency, amount_minor, fee_minor, description, reference,
         details, created_at, completed_at, from_account_id, to_account_id, client_id,
         original_transaction_id)
    SELECT r.id, r.number, r.type, r.status, r.currency, r.amount_minor, r.fee_minor,
           r.description, r.reference, r.details, r.created_at, r.completed_at,
           r.from_account_id, r.to_account_id, r.client_id, r.original_transaction_id
      FROM unnest(txn_rows) AS r;
    INSERT INTO postings (transaction_id, account_id, currency, amount_minor,
                          balance_after_minor, created_at)
    SELECT r.transaction_id, r.account_id, r.currency, r.amount_minor, r.balance_after_minor,
           r.created_at
      FROM unnest(posting_rows) WITH ORDINALITY AS r ORDER BY r.ordinality;
    INSERT INTO account_entries
        (account_id, transaction_id, direction, type, status, limit_class, currency,
         amount_minor, fee_minor, balance_after_minor, counterparty, search_text, created_at)
    SELECT r.account_id, r.transaction_id, r.direction, r.type, r.status, r.limit_class,
           r.currency, r.amount_minor, r.fee_minor, r.balance_after_minor, r.counterparty,
           r.search_text, r.created_at
      FROM unnest(entry_rows) WITH ORDINALITY AS r ORDER BY r.ordinality;
    INSERT INTO limit_usage (account_id, limit_class, period, used_minor)
    SELECT r.account_id, r.limit_class, r.period, sum(r.used_minor)
      FROM unnest(usage_rows) AS r GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (account_id, limit_class, period)
    DO UPDATE SET used_minor = limit_usage.used_minor + excluded.used_minor;
    INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at)
    SELECT r.event_id, r.type, r.aggregate_id, r.payload, r.created_at
      FROM unnest(event_rows) WITH ORDINALITY AS r ORDER BY r.ordinality;
    RETURN json_build_object('accounts', base, 'items', array_to_json(results));
END
$$
