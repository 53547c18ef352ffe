"""The ledger's invariants as database triggers, for PostgreSQL and for SQLite.

Applied by migration tokens/0002. Each rule here is mirrored in Python (tokens/services.py) only
to give a clear error message; the database is what makes it true.
"""

from __future__ import annotations

POSTGRES_FORWARD = [
    # Entries are append-only. (TRUNCATE is left to the table's owner: test databases are
    # emptied that way between tests. Production's application role should not own the tables.)
    """
    CREATE FUNCTION tokens_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$;
    """,
    """
    CREATE TRIGGER tokens_entry_append_only BEFORE UPDATE OR DELETE ON tokens_entry
    FOR EACH ROW EXECUTE FUNCTION tokens_entry_refuse_change();
    """,
    # Every transaction sums to zero over at least two entries, all in its own circle: checked
    # once per transaction at commit, when all of its entries are in (deferred, so they may
    # arrive in any order and in several statements).
    """
    CREATE FUNCTION tokens_transaction_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        total bigint;
        n integer;
        strangers integer;
    BEGIN
        SELECT COALESCE(SUM(e.minutes), 0), COUNT(*),
               COUNT(*) FILTER (WHERE a.circle_id <> NEW.circle_id)
        INTO total, n, strangers
        FROM tokens_entry e JOIN tokens_account a ON a.id = e.account_id
        WHERE e.transaction_id = NEW.id;
        IF total <> 0 OR n < 2 THEN
            RAISE EXCEPTION 'ledger transaction % is unbalanced: % entries summing to %',
                NEW.id, n, total
                USING ERRCODE = 'check_violation';
        END IF;
        -- Minutes never cross from one circle to another.
        IF strangers > 0 THEN
            RAISE EXCEPTION 'ledger transaction % touches another circle''s account', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER tokens_transaction_balanced AFTER INSERT ON tokens_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tokens_transaction_check_balanced();
    """,
    # Transactions themselves are never changed or removed.
    """
    CREATE TRIGGER tokens_transaction_append_only BEFORE UPDATE OR DELETE ON tokens_transaction
    FOR EACH ROW EXECUTE FUNCTION tokens_entry_refuse_change();
    """,
    # Each INSERT of entries, in one call per statement (over a transition table, not per row):
    # - refuses entries for a transaction not stamped with this database transaction's start
    #   (created_at = transaction_timestamp()): appending entries later, even balanced ones,
    #   would rewrite history under its id. So a transaction's entries come with it, and a
    #   transaction without entries fails the balance check: every written transaction bears
    #   its true time. (One that does not exist is left to the foreign key, checked at commit.)
    # - locks the accounts in id order, so two transfers sharing accounts queue in one order
    #   and cannot deadlock, and moves their balances by the entries, so a balance is its
    #   entries' sum and the CHECK (balance >= 0) on wallets, the pot and escrow refuses an
    #   overdraft by any writer, after any concurrent spend of the same minutes has committed.
    """
    CREATE FUNCTION tokens_entry_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM new_entries n JOIN tokens_transaction t ON t.id = n.transaction_id
                   WHERE t.created_at <> transaction_timestamp()) THEN
            RAISE EXCEPTION 'ledger transaction is already written: entries cannot be added'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        PERFORM 1 FROM tokens_account
        WHERE id IN (SELECT account_id FROM new_entries) ORDER BY id FOR UPDATE;
        UPDATE tokens_account a SET balance = a.balance + moves.minutes
        FROM (SELECT account_id, sum(minutes) AS minutes FROM new_entries GROUP BY account_id)
             AS moves
        WHERE a.id = moves.account_id;
        RETURN NULL;
    END $$;
    """,
    """
    CREATE TRIGGER tokens_entry_apply AFTER INSERT ON tokens_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION tokens_entry_apply();
    """,
    # Nothing else may change a balance, nor move an account to another circle, kind or owner.
    # The WHEN clause runs the check only for statements not issued by a trigger, so the
    # ledger's own balance updates above do not pay for a check they would always pass.
    """
    CREATE FUNCTION tokens_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.balance IS DISTINCT FROM OLD.balance THEN
            RAISE EXCEPTION 'account balances change only through ledger entries'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.circle_id <> OLD.circle_id OR NEW.kind <> OLD.kind
           OR NEW.member_id IS DISTINCT FROM OLD.member_id THEN
            RAISE EXCEPTION 'accounts cannot change owner or kind (nor circle)'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$;
    """,
    """
    CREATE TRIGGER tokens_account_guard BEFORE UPDATE ON tokens_account
    FOR EACH ROW WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION tokens_account_guard();
    """,
    """
    CREATE FUNCTION tokens_account_opens_empty() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.balance <> 0 THEN
            RAISE EXCEPTION 'accounts open with a zero balance'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;
    """,
    """
    CREATE TRIGGER tokens_account_opens_empty BEFORE INSERT ON tokens_account
    FOR EACH ROW EXECUTE FUNCTION tokens_account_opens_empty();
    """,
]

POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS tokens_account_opens_empty ON tokens_account;",
    "DROP FUNCTION IF EXISTS tokens_account_opens_empty();",
    "DROP TRIGGER IF EXISTS tokens_account_guard ON tokens_account;",
    "DROP FUNCTION IF EXISTS tokens_account_guard();",
    "DROP TRIGGER IF EXISTS tokens_entry_apply ON tokens_entry;",
    "DROP FUNCTION IF EXISTS tokens_entry_apply();",
    "DROP TRIGGER IF EXISTS tokens_transaction_append_only ON tokens_transaction;",
    "DROP TRIGGER IF EXISTS tokens_transaction_balanced ON tokens_transaction;",
    "DROP FUNCTION IF EXISTS tokens_transaction_check_balanced();",
    "DROP TRIGGER IF EXISTS tokens_entry_append_only ON tokens_entry;",
    "DROP FUNCTION IF EXISTS tokens_entry_refuse_change();",
]

# SQLite has neither deferred triggers nor statement triggers, so the order of writing carries
# the rule: a transaction's entries are inserted first (the foreign key to the transaction is
# deferred to commit, as Django declares it), then the transaction row, whose insert trigger
# refuses it unless those entries balance. An entry for a transaction already written is
# refused, and entries whose transaction never arrives fail the foreign key at commit.
SQLITE_FORWARD = [
    """
    CREATE TRIGGER tokens_entry_no_update BEFORE UPDATE ON tokens_entry
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;
    """,
    """
    CREATE TRIGGER tokens_entry_no_delete BEFORE DELETE ON tokens_entry
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: DELETE refused'); END;
    """,
    """
    CREATE TRIGGER tokens_entry_not_after_seal BEFORE INSERT ON tokens_entry
    WHEN EXISTS (SELECT 1 FROM tokens_transaction WHERE id = NEW.transaction_id)
    BEGIN SELECT RAISE(ABORT, 'ledger transaction is already written'); END;
    """,
    """
    CREATE TRIGGER tokens_transaction_balanced AFTER INSERT ON tokens_transaction
    WHEN (SELECT COUNT(*) FROM tokens_entry WHERE transaction_id = NEW.id) < 2
      OR (SELECT SUM(minutes) FROM tokens_entry WHERE transaction_id = NEW.id) <> 0
    BEGIN SELECT RAISE(ABORT, 'ledger transaction is unbalanced'); END;
    """,
    """
    CREATE TRIGGER tokens_transaction_one_circle AFTER INSERT ON tokens_transaction
    WHEN EXISTS (
        SELECT 1 FROM tokens_entry e JOIN tokens_account a ON a.id = e.account_id
        WHERE e.transaction_id = NEW.id AND a.circle_id <> NEW.circle_id
    )
    BEGIN SELECT RAISE(ABORT, 'ledger transaction touches another circle''s account'); END;
    """,
    """
    CREATE TRIGGER tokens_transaction_no_update BEFORE UPDATE ON tokens_transaction
    BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only: UPDATE refused'); END;
    """,
    """
    CREATE TRIGGER tokens_transaction_no_delete BEFORE DELETE ON tokens_transaction
    BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only: DELETE refused'); END;
    """,
    """
    CREATE TRIGGER tokens_entry_apply AFTER INSERT ON tokens_entry
    BEGIN UPDATE tokens_account SET balance = balance + NEW.minutes WHERE id = NEW.account_id; END;
    """,
    """
    CREATE TRIGGER tokens_account_opens_empty BEFORE INSERT ON tokens_account
    WHEN NEW.balance <> 0
    BEGIN SELECT RAISE(ABORT, 'accounts open with a zero balance'); END;
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS tokens_transaction_one_circle;",
    "DROP TRIGGER IF EXISTS tokens_account_opens_empty;",
    "DROP TRIGGER IF EXISTS tokens_entry_apply;",
    "DROP TRIGGER IF EXISTS tokens_transaction_no_delete;",
    "DROP TRIGGER IF EXISTS tokens_transaction_no_update;",
    "DROP TRIGGER IF EXISTS tokens_transaction_balanced;",
    "DROP TRIGGER IF EXISTS tokens_entry_not_after_seal;",
    "DROP TRIGGER IF EXISTS tokens_entry_no_delete;",
    "DROP TRIGGER IF EXISTS tokens_entry_no_update;",
]
