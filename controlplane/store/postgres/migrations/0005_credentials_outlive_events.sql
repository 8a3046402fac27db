-- Credentials are aggregates that outlive the raw events retention
-- prunes, so credentials no longer reference events: event_id and
-- event_id_time still name the event that carried the attempt, which may
-- be gone. Without the reference, whole day partitions of events can be
-- dropped. The constraint is found by its target, not by its generated
-- name.
DO $$
DECLARE
    fk text;
BEGIN
    FOR fk IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'credentials'::regclass AND confrelid = 'events'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE credentials DROP CONSTRAINT %I', fk);
    END LOOP;
END
$$;
