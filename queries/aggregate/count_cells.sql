-- Stage 4b: the cells of one count table at every level and period.
--
-- Reads the view table_counts(row_label, source_setting, region_code, provider_code,
-- test_month, n) that the caller defines for the table, table_settings(source_setting)
-- and table_periods(period). Rows: every (level, region, provider, row label) with at
-- least one record in the year to date, each with every source setting and period of
-- the table (PUBLICATION.md section 1), so that every cell has a value or a marker.
-- A period with no submission at that level is marked "x"; otherwise a missing cell is 0.

WITH by_period AS (
    SELECT t.row_label, t.source_setting, t.region_code, t.provider_code, p.period,
           sum(t.n) AS n
    FROM table_counts AS t JOIN period_months AS p USING (test_month)
    GROUP BY ALL
),
levels AS (  -- provider, region and England in one roll-up (macros.sql)
    SELECT geography_level(grouping(region_code), grouping(provider_code)) AS geography_level,
           geography_code(region_code, grouping(region_code)) AS region_code,
           geography_code(provider_code, grouping(provider_code)) AS provider_code,
           row_label, source_setting, period, sum(n) AS n
    FROM by_period GROUP BY row_label, source_setting, period, ROLLUP (region_code, provider_code)
),
row_set AS (
    SELECT DISTINCT geography_level, region_code, provider_code, row_label
    FROM levels WHERE n > 0
),
grid AS (
    SELECT r.*, s.source_setting, p.period
    FROM row_set AS r CROSS JOIN table_settings AS s CROSS JOIN table_periods AS p
)
SELECT
    g.geography_level, g.region_code, g.provider_code, g.row_label, g.source_setting,
    g.period,
    CASE WHEN s.period IS NULL THEN NULL ELSE coalesce(l.n, 0) END AS value,
    coalesce(l.n, 0) AS records,
    CASE WHEN s.period IS NULL THEN 'x' ELSE '' END AS marker
FROM grid AS g
LEFT JOIN levels AS l USING (geography_level, region_code, provider_code, row_label,
                             source_setting, period)
LEFT JOIN submitted_periods AS s USING (geography_level, region_code, provider_code, period);
