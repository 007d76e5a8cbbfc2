-- The data-quality report, aggregate only (PUBLICATION.md section 5). Two blocks, read
-- by publish/quality/report.py; their counts are unprotected until the disclosure policy is
-- applied there.

-- name: by_provider
-- Per provider (from the record's site, where the site is known) and month of test
-- (where the test date is valid), and for England: how many records were received,
-- accepted, rejected and warned, and how many broke each rule. NULL region, provider or
-- month: not known (no site, a site not in the reference, or no valid test date).
-- (record_outcomes, derive.sql, holds the records already counted by those keys.)
WITH levels AS (
    SELECT 'provider' AS geography_level, region_code, provider_code, month,
           rejection_codes, warning_codes, n
    FROM record_outcomes
    UNION ALL
    SELECT 'england', NULL, NULL, month, rejection_codes, warning_codes, n
    FROM record_outcomes
),
totals AS (
    SELECT geography_level, region_code, provider_code, month,
           CAST(sum(n) AS BIGINT) AS count_records_received,
           CAST(coalesce(sum(CASE WHEN len(rejection_codes) = 0 THEN n END), 0) AS BIGINT)
               AS count_records_accepted,
           CAST(coalesce(sum(CASE WHEN len(rejection_codes) > 0 THEN n END), 0) AS BIGINT)
               AS count_records_rejected,
           CAST(coalesce(sum(CASE WHEN len(rejection_codes) = 0 AND len(warning_codes) > 0
                                  THEN n END), 0) AS BIGINT) AS count_records_warned
    FROM levels
    GROUP BY ALL
),
by_rule AS (
    SELECT geography_level, region_code, provider_code, month,
           'count_rule_' || code AS measure, CAST(sum(n) AS BIGINT) AS value
    FROM (SELECT geography_level, region_code, provider_code, month, n,
                 unnest(rejection_codes || warning_codes) AS code
          FROM levels)
    GROUP BY ALL
)
SELECT geography_level, region_code, provider_code, month, measure, value
FROM totals
UNPIVOT (value FOR measure IN (count_records_received, count_records_accepted,
                               count_records_rejected, count_records_warned))
UNION ALL
SELECT geography_level, region_code, provider_code, month, measure, value FROM by_rule
ORDER BY ALL;

-- name: provider_months
-- Per provider and month of test: records received (with a known site and a valid test
-- date) and records counted in the publication (accepted and not superseded by a
-- resubmission), for the provider-issues list.
WITH received AS (
    SELECT region_code, provider_code, month, CAST(sum(n) AS BIGINT) AS received
    FROM record_outcomes
    WHERE provider_code IS NOT NULL AND month IS NOT NULL
    GROUP BY ALL
),
counted AS (
    SELECT region_code, provider_code, test_month AS month, CAST(sum(n) AS BIGINT) AS counted
    FROM counted_cube
    GROUP BY ALL
)
SELECT region_code, provider_code, month,
       coalesce(r.received, 0) AS received, coalesce(k.counted, 0) AS counted
FROM received AS r
FULL JOIN counted AS k USING (region_code, provider_code, month)
ORDER BY ALL;
