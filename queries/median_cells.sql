-- Stage 4c: the cells of one median table, exact from per-day counts.
--
-- Reads the view table_waits(row_label, source_setting, region_code, provider_code,
-- test_month, days, n) and the view count_grid: the cells of the sibling count table
-- (same rows and periods). The median is the conventional one: the middle value of the
-- records, or the mean of the two middle values for an even number (x.5 occurs). For N
-- records in day order it is the mean of the values at positions floor((N+1)/2) and
-- floor(N/2)+1. A year-to-date median is the median of the year's records.
-- Markers: "x" where the count is "x" (nothing submitted) or no record has the dates the
-- median needs; "z" where there were no tests (a median of nothing does not apply).

WITH by_period AS (
    SELECT t.row_label, t.source_setting, t.region_code, t.provider_code, p.period,
           t.days, sum(t.n) AS n
    FROM table_waits AS t JOIN period_months AS p USING (test_month)
    GROUP BY ALL
),
levels AS (
    SELECT 'provider' AS geography_level, region_code, provider_code, row_label,
           source_setting, period, days, n
    FROM by_period
    UNION ALL
    SELECT 'region', region_code, '', row_label, source_setting, period, days, sum(n)
    FROM by_period GROUP BY ALL
    UNION ALL
    SELECT 'england', '', '', row_label, source_setting, period, days, sum(n)
    FROM by_period GROUP BY ALL
),
cumulative AS (
    SELECT *,
           sum(n) OVER (PARTITION BY geography_level, region_code, provider_code, row_label,
                                     source_setting, period ORDER BY days) AS running_n,
           sum(n) OVER (PARTITION BY geography_level, region_code, provider_code, row_label,
                                     source_setting, period) AS total_n
    FROM levels
),
medians AS (
    SELECT geography_level, region_code, provider_code, row_label, source_setting, period,
           any_value(total_n) AS records,
           (min(days) FILTER (WHERE running_n >= (total_n + 1) // 2)
            + min(days) FILTER (WHERE running_n >= total_n // 2 + 1)) / 2.0 AS median_days
    FROM cumulative
    GROUP BY ALL
)
SELECT
    g.geography_level, g.region_code, g.provider_code, g.row_label, g.source_setting,
    g.period,
    CASE WHEN g.marker = '' AND g.value > 0 THEN m.median_days END AS value,
    coalesce(m.records, 0) AS records,
    CASE WHEN g.marker = 'x' THEN 'x'
         WHEN g.value = 0 THEN 'z'
         WHEN m.median_days IS NULL THEN 'x'
         ELSE '' END AS marker
FROM count_grid AS g
LEFT JOIN medians AS m USING (geography_level, region_code, provider_code, row_label,
                              source_setting, period);
