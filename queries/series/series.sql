-- The series of releases (publish.series): what it reads of the counted records.

-- name: provider_setting_months
-- Per provider, month of test and source setting: the tests counted, for the provider
-- issues' sharp shifts in the mix of source settings (publish.series.provider_issues).
SELECT region_code, provider_code, test_month AS month, source_setting_code,
       CAST(sum(n) AS BIGINT) AS tests
FROM counted_cube
GROUP BY ALL
ORDER BY ALL;
