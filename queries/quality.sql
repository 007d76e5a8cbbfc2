-- The data-quality report, aggregate only: per provider (from the record's site, where
-- the site is known) and month of test (where the test date is valid), how many records
-- were received, accepted, rejected and warned, and how many broke each rule.

WITH records AS (
    SELECT
        coalesce(s.region_code, '') AS region_code,
        coalesce(s.provider_code, 'unknown site') AS provider_code,
        coalesce(strftime(c.test_date, '%Y-%m'), 'unknown month') AS month,
        c.rejection_codes, c.warning_codes
    FROM checked_records AS c
    LEFT JOIN sites AS s ON s.site_code = c.site_code
),
totals AS (
    SELECT region_code, provider_code, month, 'count_records_received' AS measure,
           count(*) AS value
    FROM records GROUP BY ALL
    UNION ALL
    SELECT region_code, provider_code, month, 'count_records_accepted',
           count(*) FILTER (WHERE len(rejection_codes) = 0)
    FROM records GROUP BY ALL
    UNION ALL
    SELECT region_code, provider_code, month, 'count_records_rejected',
           count(*) FILTER (WHERE len(rejection_codes) > 0)
    FROM records GROUP BY ALL
    UNION ALL
    SELECT region_code, provider_code, month, 'count_records_warned',
           count(*) FILTER (WHERE len(rejection_codes) = 0 AND len(warning_codes) > 0)
    FROM records GROUP BY ALL
),
by_rule AS (
    SELECT region_code, provider_code, month, 'count_rule_' || code AS measure,
           count(*) AS value
    FROM (SELECT region_code, provider_code, month,
                 unnest(rejection_codes || warning_codes) AS code FROM records)
    GROUP BY ALL
)
SELECT * FROM totals
UNION ALL
SELECT * FROM by_rule
ORDER BY region_code, provider_code, month, measure;
