-- The due lists' totals at a cost bounded by the calendar's months, not its days (issue 18,
-- docs/benchmarks.md "Growth", docs/operations.md "The work lists' totals").
--
-- Until now a due list's total summed `ledger_counts` (migration 0022) over one row per day of
-- the list's range that holds a due file. A visits list's range is "every day before the bound":
-- at 10 million events a district's visits total summed 921 day rows (2.13 ms), at 1 million
-- 287 (0.64 ms) — 1.48× the smaller log, above the 1.25× the issue allows, and growing with
-- every day a file was last visited until the calendar runs out.
--
-- Each of the four due lists now also counts by month: kind `visits/month` holds, for each month
-- of the key, how many files of the scope have their key in that month (its row's `day` is the
-- month's first day). A total reads the whole months of its range as month rows and the days of
-- the two partial months at its ends as day rows (adapters/pg/reads.py `counted`): at most
-- 31 + 31 day rows and one row per month, about 50 for the four years a visits list spans.
-- The queue's kinds (`approvals`, `category_changes`) have a single fixed day and no months.
--
-- The month rows are kept by the same triggers and filled by the same function as the day rows
-- (migration 0022), since both take their lists and days from `bangfu_ledger_count_days`: a
-- change of a file's key moves a month count only when the month changes (the netting by unit
-- drops the rest). The price is on the write path, measured by bench/counts.py.
CREATE OR REPLACE FUNCTION bangfu_ledger_count_days(
    status text, last_visited_on date, approved_on date, next_recheck_due date,
    exited_on date, exit_due text, exit_due_on date, category_pending text
) RETURNS TABLE (kind text, day date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- (the month's first day by integer arithmetic on the date: `date_trunc` of a date is of a
    -- timestamptz, which depends on the time zone and is not immutable)
    SELECT k.kind || m.suffix,
           CASE WHEN m.suffix = '' THEN k.day
                ELSE k.day - (extract(day FROM k.day)::integer - 1) END
    FROM (VALUES
        ('visits', CASE WHEN status = 'approved'
                        THEN COALESCE(last_visited_on, approved_on) END),
        ('rechecks', CASE WHEN status = 'approved' THEN next_recheck_due END),
        ('follow_up', CASE WHEN status IN ('out_of_hardship', 'relieved') THEN exited_on END),
        ('exit', CASE WHEN status IN ('approved', 'relieved') AND exit_due IS NOT NULL
                      THEN exit_due_on END),
        ('approvals', CASE WHEN status = 'appraised' OR category_pending IS NOT NULL
                           THEN DATE '2000-01-01' END),
        ('category_changes', CASE WHEN category_pending IS NOT NULL
                                  THEN DATE '2000-01-01' END)
    ) AS k (kind, day)
    CROSS JOIN (VALUES (''), ('/month')) AS m (suffix)
    WHERE k.day IS NOT NULL
      AND (m.suffix = '' OR k.kind IN ('visits', 'rechecks', 'follow_up', 'exit'))
$$;

-- Filled again from the ledger as it stands, in this migration's transaction: no ledger write
-- comes between (as migration 0022).
LOCK TABLE ledger IN SHARE MODE;
TRUNCATE ledger_counts;
SELECT bangfu_ledger_counts_fill('ledger', 'ledger_counts');
ANALYZE ledger_counts;
