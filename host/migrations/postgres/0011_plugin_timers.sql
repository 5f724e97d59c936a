-- When each plugin timer is due next (unix milliseconds), and the schedule that was
-- computed from: panels sharing the database claim a due time with a compare-and-set,
-- so each firing happens once.
CREATE TABLE plugin_timers (
    plugin_id TEXT NOT NULL,
    name TEXT NOT NULL,
    schedule TEXT NOT NULL,
    next_due BIGINT NOT NULL,
    PRIMARY KEY (plugin_id, name)
);
