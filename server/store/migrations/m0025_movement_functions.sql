-- Deposits and withdrawals in one statement: bank_post_deposit and
-- bank_post_withdrawal (m0025). Statements are separated by lines holding
-- only "-- next"; no literal percent sign anywhere (the migration runner
-- hands the text to psycopg2). The figures shared with transfers come from
-- m0021's bank_transfer_constants.

-- The rules' figures a withdrawal needs beyond m0021's (server.domain.limits).
-- tests/store/test_movement_functions_figures.py compares them with the
-- Python constants: a change there needs a migration that replaces this.
CREATE FUNCTION bank_movement_constants() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT '{
  "per_transaction_atm_withdrawal_max_major": 500,
  "daily_atm_withdrawal_major": {"SAVINGS": 1000, "CHECKING": 1500, "BUSINESS": 5000},
  "atm_usage_classes": ["ATM"]
}'::jsonb
$$;
-- next
-- An outbox timestamp as Python writes it (datetime.isoformat() + "Z").
CREATE FUNCTION bank_event_stamp(moment timestamp) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT to_char(moment, 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN to_char(moment, 'US') = '000000' THEN '' ELSE '.' || to_char(moment, 'US') END
    || 'Z'
$$;
-- next
-- A fresh transaction number (server.domain.movements.transaction_number).
CREATE FUNCTION bank_next_number(moment timestamp) RETURNS text
LANGUAGE sql VOLATILE AS $$
SELECT 'TXN' || to_char(moment, 'YYYYMMDD') || lpad(s.v::text, greatest(3, length(s.v::text)), '0')
  FROM (SELECT nextval('transaction_numbers') AS v) AS s
$$;
-- next
-- A limit.approaching payload (server.domain.movement_events.approaching_data),
-- keys sorted as json.dumps sorts them.
CREATE FUNCTION bank_limit_event(
    event_id text, stamp text, account_id text, limit_name text, limit_value bigint,
    used_after bigint, places integer
) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT '{"data": {"accountId": ' || to_json(account_id)::text
    || ', "limit": ' || to_json(limit_name)::text
    || ', "limitAmount": ' || bank_major_text(limit_value, places)
    || ', "percent": ' || (used_after * 100 / limit_value)::text
    || ', "usedAmount": ' || bank_major_text(used_after, places)
    || '}, "event": "limit.approaching", "id": ' || to_json(event_id)::text
    || ', "timestamp": ' || to_json(stamp)::text || '}'
$$;
-- next
-- The postings of a journal transaction (server.store.ledger.post_legs): each
-- account's balance moved in id order (the order Python's sorted() gives:
-- byte order), then one posting per account, in that order, with its
-- balance after. Returns {account id: balance after}.
CREATE FUNCTION bank_post_legs(
    txn text, leg_accounts text[], leg_amounts bigint[], cur text, moment timestamp
) RETURNS jsonb
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    after jsonb := '{}';
    leg record;
    moved bigint;
BEGIN
    FOR leg IN SELECT l.account, l.amount FROM unnest(leg_accounts, leg_amounts) AS l(account, amount)
                ORDER BY l.account COLLATE "C" LOOP
        UPDATE accounts SET balance_minor = balance_minor + leg.amount WHERE id = leg.account
            RETURNING balance_minor INTO moved;
        after := after || jsonb_build_object(leg.account, moved);
    END LOOP;
    INSERT INTO postings (transaction_id, account_id, currency, amount_minor,
                          balance_after_minor, created_at)
    SELECT txn, l.account, cur, l.amount, (after->>l.account)::bigint, moment
      FROM unnest(leg_accounts, leg_amounts) AS l(account, amount)
     ORDER BY l.account COLLATE "C";
    RETURN after;
END
$$;
-- next
-- One deposit, exactly as server.services.deposits.deposit posts it.
--
-- `item`: a JSON object built by server.store.movement_functions (the
-- request's amount parsed for each currency exponent, the texts, ids and
-- details decided in Python, the clearing account of each currency, the
-- hold to place, if any); `moment`: the server's now (naive UTC). Returns
-- {"account": the row as locked, with "owner_name"} and one of {"ok": ...},
-- {"error": kind, ...facts} or {"fallback": reason}. A refusal writes nothing.
CREATE FUNCTION bank_post_deposit(item jsonb, moment timestamp) RETURNS json
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    k jsonb := bank_transfer_constants();
    target text := item->>'account';
    events jsonb := item->'events';
    stamp text := bank_event_stamp(moment);
    base json;
    acct accounts;
    cur text;
    places integer;
    amount bigint;
    txn text := item->>'id';
    txn_number text;
    clearing text;
    after jsonb;
    amount_text text;
BEGIN
    SELECT row_to_json(r) INTO base
      FROM (SELECT a.*, u.name AS owner_name
              FROM accounts a LEFT JOIN users u ON u.id = a.owner_id
             WHERE a.id = target AND a.kind = 'CUSTOMER' FOR NO KEY UPDATE OF a) AS r;
    acct := json_populate_record(NULL::accounts, base);
    IF base IS NULL OR (item->>'viewer' IS NOT NULL
                        AND acct.owner_id IS DISTINCT FROM item->>'viewer') THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    IF NOT (item->>'method_allowed')::boolean THEN
        RETURN json_build_object('account', base, 'error', 'method');
    END IF;
    cur := coalesce(nullif(item->>'currency', ''), acct.currency);
    IF cur <> acct.currency THEN
        RETURN json_build_object('account', base, 'error', 'currency');
    END IF;
    places := (k->'exponents'->>cur)::integer;
    clearing := item->'clearing'->>cur;
    IF places IS NULL OR clearing IS NULL THEN
        RETURN json_build_object('account', base, 'fallback', 'unsupported currency');
    END IF;
    amount := (item->'minor'->>places::text)::bigint;
    IF amount IS NULL THEN
        RETURN json_build_object('account', base, 'error', 'amount', 'currency', cur);
    END IF;
    IF amount < 1 OR amount > (item->>'maximum')::bigint THEN
        RETURN json_build_object('account', base, 'error', 'per_transaction',
                                 'amount_minor', amount);
    END IF;
    IF NOT (item->>'can_write')::boolean THEN
        RETURN json_build_object('account', base, 'error', 'read_only');
    END IF;
    -- The number is taken here, refused or not, where the Python path's lock takes it.
    txn_number := bank_next_number(moment);
    IF acct.status <> 'ACTIVE' THEN
        RETURN json_build_object('account', base, 'error', 'inactive');
    END IF;

    -- ledger.post, holds.place, the history row, steps.emit_completed
    INSERT INTO ledger_transactions
        (id, number, type, status, currency, amount_minor, fee_minor, description, reference,
         details, created_at, completed_at, to_account_id, client_id)
    VALUES (txn, txn_number, 'DEPOSIT', 'COMPLETED', cur, amount, 0, item->>'description',
            item->>'reference', item->>'details', moment, moment, target, item->>'client_id');
    after := bank_post_legs(txn, ARRAY[target, clearing], ARRAY[amount, -amount], cur, moment);
    IF item->>'hold_id' IS NOT NULL THEN
        INSERT INTO holds (id, account_id, transaction_id, amount_minor, currency, reason, status,
                           description, release_at, created_at)
        VALUES (item->>'hold_id', target, txn, amount, cur, item->>'hold_reason', 'PENDING',
                item->>'hold_description', (item->>'release_at')::timestamp, moment);
        UPDATE accounts SET held_minor = held_minor + amount WHERE id = target;
    END IF;
    INSERT INTO account_entries
        (account_id, transaction_id, direction, type, status, limit_class, currency,
         amount_minor, fee_minor, balance_after_minor, counterparty, search_text, created_at)
    VALUES (target, txn, 'CREDIT', 'DEPOSIT', 'COMPLETED', '', cur, amount, 0,
            (after->>target)::bigint, item->>'counterparty',
            concat_ws(' ', lower(txn_number), nullif(item->>'search', '')), moment);
    amount_text := bank_major_text(amount, places);
    INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at)
    VALUES (events->>0, 'transaction.created', txn,
            bank_transaction_event(events->>0, 'transaction.created', stamp, txn, txn_number,
                                   target, amount_text, cur, 'DEPOSIT', 'COMPLETED'), moment),
           (events->>1, 'transaction.completed', txn,
            bank_transaction_event(events->>1, 'transaction.completed', stamp, txn, txn_number,
                                   target, amount_text, cur, 'DEPOSIT', 'COMPLETED'), moment);
    RETURN json_build_object('account', base, 'ok', json_build_object(
        'number', txn_number, 'amount_minor', amount, 'currency', cur,
        'balance_after', (after->>target)::bigint, 'held', acct.held_minor));
END
$$;
-- next
-- One withdrawal, exactly as server.services.withdrawals.withdrawal posts it
-- once its card (if any) and PIN are checked: the card, the ATM's network
-- and so its fee are decided in Python and come with the item.
--
-- Returns as bank_post_deposit does. The release of the account's due holds
-- and the funds check run in a block with an exception handler (only when
-- the account has holds): a refusal raises SQLSTATE BK001 there, which
-- undoes the release, as the Python path's rollback does.
CREATE FUNCTION bank_post_withdrawal(item jsonb, moment timestamp) RETURNS json
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    k jsonb := bank_transfer_constants();
    m jsonb := bank_movement_constants();
    target text := item->>'account';
    atm boolean := (item->>'atm')::boolean;
    atm_fee bigint := (item->>'atm_fee')::bigint;
    events jsonb := item->'events';
    stamp text := bank_event_stamp(moment);
    day_key text := 'D' || to_char(moment, 'YYYY-MM-DD');
    month_key text := 'M' || to_char(moment, 'YYYY-MM');
    base json;
    acct accounts;
    cur text;
    places integer;
    scale bigint;
    amount bigint;
    debit bigint;
    limits_major jsonb;
    overrides jsonb;
    per_min bigint;
    per_max bigint;
    daily_limit bigint;
    daily_used bigint := 0;
    threshold bigint;
    released bigint;
    refused boolean;
    fee bigint;
    txn text := item->>'id';
    fee_txn text := item->>'fee_id';
    txn_number text;
    fee_number text;
    clearing text;
    income text;
    after jsonb;
    balance_after bigint;
    final_balance bigint;
    amount_text text;
BEGIN
    SELECT row_to_json(r) INTO base
      FROM (SELECT a.*, u.name AS owner_name
              FROM accounts a LEFT JOIN users u ON u.id = a.owner_id
             WHERE a.id = target AND a.kind = 'CUSTOMER' FOR NO KEY UPDATE OF a) AS r;
    acct := json_populate_record(NULL::accounts, base);
    IF base IS NULL OR (item->>'viewer' IS NOT NULL
                        AND acct.owner_id IS DISTINCT FROM item->>'viewer') THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    cur := coalesce(nullif(item->>'currency', ''), acct.currency);
    IF cur <> acct.currency THEN
        RETURN json_build_object('account', base, 'error', 'currency');
    END IF;
    places := (k->'exponents'->>cur)::integer;
    clearing := item->'clearing'->>cur;
    income := k->'fee_income_accounts'->>cur;
    IF places IS NULL OR clearing IS NULL OR income IS NULL THEN
        RETURN json_build_object('account', base, 'fallback', 'unsupported currency');
    END IF;
    amount := (item->'minor'->>places::text)::bigint;
    IF amount IS NULL THEN
        RETURN json_build_object('account', base, 'error', 'amount', 'currency', cur);
    END IF;
    IF NOT (item->>'can_write')::boolean THEN
        RETURN json_build_object('account', base, 'error', 'read_only');
    END IF;

    -- limits.stored_limits: the type's defaults, the overrides on top
    limits_major := k->'limits_major'->acct.type;
    IF limits_major IS NULL THEN
        RETURN json_build_object('account', base, 'fallback', 'account type without limits');
    END IF;
    scale := (10::bigint ^ places)::bigint;
    per_min := greatest(1, (k->>'per_transaction_min_cents')::bigint * scale / 100);
    per_max := CASE WHEN atm
                    THEN (m->>'per_transaction_atm_withdrawal_max_major')::bigint * scale END;
    daily_limit := (m->'daily_atm_withdrawal_major'->>acct.type)::bigint * scale;
    IF acct.limit_overrides NOT IN ('', '{}') THEN
        BEGIN
            overrides := acct.limit_overrides::jsonb;
            -- limits.parse_overrides reads whole numbers; anything else falls back
            IF jsonb_typeof(overrides) <> 'object' OR EXISTS (
                SELECT 1 FROM jsonb_each(overrides) AS o
                 WHERE jsonb_typeof(o.value) <> 'number' OR o.value::text !~ '^-?[0-9]+$'
            ) THEN
                RETURN json_build_object('account', base,
                                         'fallback', 'unreadable limit overrides');
            END IF;
            daily_limit := coalesce((overrides->>'daily_atm_withdrawal')::bigint, daily_limit);
        EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
            RETURN json_build_object('account', base, 'fallback', 'unreadable limit overrides');
        END;
    END IF;
    IF amount < per_min OR amount > coalesce(per_max, amount) THEN
        RETURN json_build_object('account', base, 'error', 'per_transaction',
                                 'amount_minor', amount);
    END IF;
    -- The number is taken here, refused or not, where the Python path's lock takes it.
    txn_number := bank_next_number(moment);
    IF acct.status <> 'ACTIVE' THEN
        RETURN json_build_object('account', base, 'error', 'inactive');
    END IF;
    IF atm THEN
        SELECT coalesce(sum(used_minor), 0) INTO daily_used
          FROM limit_usage
         WHERE account_id = target AND period = day_key
           AND (m->'atm_usage_classes') ? limit_class;
        IF daily_used + amount > daily_limit THEN
            RETURN json_build_object('account', base, 'error', 'limit', 'amount_minor', amount,
                                     'daily_used', daily_used);
        END IF;
    END IF;

    -- movements.debit_fees of the amount and the ATM fee (after
    -- steps.holds_released when the account has holds)
    debit := amount + atm_fee;
    IF acct.held_minor = 0 THEN
        fee := CASE WHEN acct.balance_minor - debit < 0 AND (k->'overdraft_types') ? acct.type
                    THEN (k->>'overdraft_fee_minor')::bigint ELSE 0 END;
        refused := debit + fee > acct.balance_minor - acct.held_minor
                                 - acct.pending_debits_minor + acct.overdraft_limit_minor;
    ELSE
        BEGIN
            WITH due AS (
                SELECT id FROM holds
                 WHERE account_id = target AND status = 'PENDING' AND release_at <= moment
                 ORDER BY account_id, id FOR UPDATE SKIP LOCKED
            ), ended AS (
                UPDATE holds h SET status = 'RELEASED', resolved_at = moment
                  FROM due WHERE h.id = due.id RETURNING h.amount_minor
            )
            SELECT coalesce(sum(amount_minor), 0) INTO released FROM ended;
            IF released <> 0 THEN
                UPDATE accounts SET held_minor = held_minor - released
                 WHERE id = target RETURNING * INTO acct;
            END IF;
            fee := CASE WHEN acct.balance_minor - debit < 0 AND (k->'overdraft_types') ? acct.type
                        THEN (k->>'overdraft_fee_minor')::bigint ELSE 0 END;
            refused := debit + fee > acct.balance_minor - acct.held_minor
                                     - acct.pending_debits_minor + acct.overdraft_limit_minor;
            IF refused THEN
                RAISE SQLSTATE 'BK001';
            END IF;
        EXCEPTION WHEN SQLSTATE 'BK001' THEN
            NULL;  -- `acct` keeps the figures the refusal was decided on
        END;
    END IF;
    IF refused THEN
        RETURN json_build_object(
            'account', base, 'error', 'funds', 'amount_minor', debit,
            'balance', acct.balance_minor, 'held', acct.held_minor,
            'pending_debits', acct.pending_debits_minor,
            'overdraft_limit', acct.overdraft_limit_minor);
    END IF;

    -- ledger.post (the ATM fee a third leg), the history row and its
    -- counters, steps.emit_completed, steps.warn_if_approaching
    INSERT INTO ledger_transactions
        (id, number, type, status, currency, amount_minor, fee_minor, description, reference,
         details, created_at, completed_at, from_account_id, client_id)
    VALUES (txn, txn_number, 'WITHDRAWAL', 'COMPLETED', cur, amount, atm_fee,
            item->>'description', '', item->>'details', moment, moment, target,
            item->>'client_id');
    IF atm_fee <> 0 THEN
        after := bank_post_legs(txn, ARRAY[target, clearing, income],
                                ARRAY[-debit, amount, atm_fee], cur, moment);
    ELSE
        after := bank_post_legs(txn, ARRAY[target, clearing], ARRAY[-debit, amount], cur, moment);
    END IF;
    balance_after := (after->>target)::bigint;
    INSERT INTO account_entries
        (account_id, transaction_id, direction, type, status, limit_class, currency,
         amount_minor, fee_minor, balance_after_minor, counterparty, search_text, created_at)
    VALUES (target, txn, 'DEBIT', 'WITHDRAWAL', 'COMPLETED', CASE WHEN atm THEN 'ATM' ELSE '' END,
            cur, amount, atm_fee, balance_after, item->>'counterparty',
            concat_ws(' ', lower(txn_number), nullif(item->>'search', '')), moment);
    IF atm THEN
        INSERT INTO limit_usage (account_id, limit_class, period, used_minor)
        VALUES (target, 'ATM', day_key, amount), (target, 'ATM', month_key, amount)
        ON CONFLICT (account_id, limit_class, period)
        DO UPDATE SET used_minor = limit_usage.used_minor + excluded.used_minor;
    END IF;
    amount_text := bank_major_text(amount, places);
    INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at)
    VALUES (events->>0, 'transaction.created', txn,
            bank_transaction_event(events->>0, 'transaction.created', stamp, txn, txn_number,
                                   target, amount_text, cur, 'WITHDRAWAL', 'COMPLETED'), moment),
           (events->>1, 'transaction.completed', txn,
            bank_transaction_event(events->>1, 'transaction.completed', stamp, txn, txn_number,
                                   target, amount_text, cur, 'WITHDRAWAL', 'COMPLETED'), moment);
    threshold := daily_limit * (k->>'warning_percent')::bigint / 100;
    IF atm AND daily_limit <> 0 AND daily_used < threshold AND threshold <= daily_used + amount THEN
        INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at)
        VALUES (events->>2, 'limit.approaching', target,
                bank_limit_event(events->>2, stamp, target, 'daily_atm_withdrawal', daily_limit,
                                 daily_used + amount, places), moment);
    END IF;

    -- The overdraft fee: a FEE transaction of its own (steps.charge_overdraft_fee).
    final_balance := balance_after;
    IF fee <> 0 THEN
        fee_number := bank_next_number(moment);
        INSERT INTO ledger_transactions
            (id, number, type, status, currency, amount_minor, fee_minor, description, reference,
             details, created_at, completed_at, from_account_id, original_transaction_id)
        VALUES (fee_txn, fee_number, 'FEE', 'COMPLETED', cur, fee, 0,
                'Overdraft fee (' || txn_number || ')', '', '{"fee_kind": "OVERDRAFT"}', moment,
                moment, target, txn);
        after := bank_post_legs(fee_txn, ARRAY[target, income], ARRAY[-fee, fee], cur, moment);
        final_balance := (after->>target)::bigint;
        INSERT INTO account_entries
            (account_id, transaction_id, direction, type, status, limit_class, currency,
             amount_minor, fee_minor, balance_after_minor, counterparty, search_text, created_at)
        VALUES (target, fee_txn, 'DEBIT', 'FEE', 'COMPLETED', '', cur, fee, 0, final_balance,
                'Overdraft fee',
                lower(fee_number) || ' overdraft fee (' || lower(txn_number) || ') overdraft fee',
                moment);
        amount_text := bank_major_text(fee, places);
        INSERT INTO outbox_events (event_id, type, aggregate_id, payload, created_at)
        VALUES (events->>3, 'transaction.created', fee_txn,
                bank_transaction_event(events->>3, 'transaction.created', stamp, fee_txn,
                                       fee_number, target, amount_text, cur, 'FEE', 'COMPLETED'),
                moment),
               (events->>4, 'transaction.completed', fee_txn,
                bank_transaction_event(events->>4, 'transaction.completed', stamp, fee_txn,
                                       fee_number, target, amount_text, cur, 'FEE', 'COMPLETED'),
                moment);
    END IF;
    RETURN json_build_object('account', base, 'ok', json_build_object(
        'number', txn_number, 'amount_minor', amount, 'currency', cur,
        'balance_after', balance_after, 'balance', final_balance, 'held', acct.held_minor,
        'fee_number', fee_number));
END
$$
