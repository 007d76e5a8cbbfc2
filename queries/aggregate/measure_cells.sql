-- Stage 4d: the cells of a table whose columns are measures (tables 9, 10 and 13).
--
-- Reads the view table_counts_long(row_label, source_setting, region_code,
-- provider_code, test_month, measure, n), table_period_months(test_month, period) (the
-- months of each of the table's periods: year to date, or quarters), and
-- table_settings, table_periods,
-- table_levels(geography_level), table_count_measures(measure) (the counts published)
-- and table_percents(measure, numerator, denominator, cases). A percentage is
-- 100 * numerator / denominator to one decimal place, with the n of `cases` (the tests
-- it is based on: its denominator, or for table 13's time bands the tests with a known
-- report time) as the number of records underlying it: "x" where the denominator's
-- cell is "x", "z" where the denominator is 0.

WITH by_period AS (
    SELECT t.row_label, t.source_setting, t.region_code, t.provider_code, p.period,
           t.measure, sum(t.n) AS n
    FROM table_counts_long AS t
    JOIN table_period_months AS p USING (test_month)
    JOIN table_periods USING (period)
    GROUP BY ALL
),
all_levels AS (  -- provider, region and England in one roll-up (macros.sql)
    SELECT geography_level(grouping(region_code), grouping(provider_code)) AS geography_level,
           geography_code(region_code, grouping(region_code)) AS region_code,
           geography_code(provider_code, grouping(provider_code)) AS provider_code,
           row_label, source_setting, period, measure, sum(n) AS n
    FROM by_period GROUP BY row_label, source_setting, period, measure, ROLLUP (region_code, provider_code)
),
levels AS (
    SELECT * FROM all_levels WHERE geography_level IN (SELECT geography_level FROM table_levels)
),
row_set AS (
    SELECT DISTINCT geography_level, region_code, provider_code, row_label
    FROM levels WHERE n > 0
),
grid AS (
    SELECT r.*, s.source_setting, p.period
    FROM row_set AS r CROSS JOIN table_settings AS s CROSS JOIN table_periods AS p
),
counts AS (
    SELECT g.*, m.measure, coalesce(l.n, 0) AS n,
           CASE WHEN sp.period IS NULL THEN 'x' ELSE '' END AS marker
    FROM grid AS g
    CROSS JOIN (SELECT measure FROM table_count_measures
                UNION SELECT numerator FROM table_percents
                UNION SELECT denominator FROM table_percents
                UNION SELECT cases FROM table_percents) AS m
    LEFT JOIN levels AS l USING (geography_level, region_code, provider_code, row_label,
                                 source_setting, period, measure)
    LEFT JOIN submitted_periods AS sp USING (geography_level, region_code, provider_code, period)
)
SELECT geography_level, region_code, provider_code, row_label, source_setting, period,
       measure,
       CASE WHEN marker = '' THEN n END AS value, n AS records, marker
FROM counts
WHERE measure IN (SELECT measure FROM table_count_measures)
UNION ALL
SELECT num.geography_level, num.region_code, num.provider_code, num.row_label,
       num.source_setting, num.period, pc.measure,
       CASE WHEN den.marker = '' AND den.n > 0 THEN round(100.0 * num.n / den.n, 1) END,
       base.n,
       CASE WHEN den.marker = 'x' THEN 'x' WHEN den.n = 0 THEN 'z' ELSE '' END
FROM table_percents AS pc
JOIN counts AS num ON num.measure = pc.numerator
JOIN counts AS den
  ON den.measure = pc.denominator
 AND den.geography_level = num.geography_level AND den.region_code = num.region_code
 AND den.provider_code = num.provider_code AND den.row_label = num.row_label
 AND den.source_setting = num.source_setting AND den.period = num.period
JOIN counts AS base
  ON base.measure = pc.cases
 AND base.geography_level = num.geography_level AND base.region_code = num.region_code
 AND base.provider_code = num.provider_code AND base.row_label = num.row_label
 AND base.source_setting = num.source_setting AND base.period = num.period;
