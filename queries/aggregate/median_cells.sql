-- Stage 4c: the cells of one median table, exact from per-day counts.
--
-- Reads the view table_waits(row_label, source_setting, region_code, provider_code,
-- test_month, days, n) and the view count_grid: the cells of the sibling count table
-- (same rows and periods). The median is the conventional one: the middle value of the
-- records, or the mean of the two middle values for an even number (x.5 occurs). For N
-- records in day order it is the mean of the values at positions floor((N+1)/2) and
-- floor(N/2)+1. A year-to-date median is the median of the year's records.
-- The histogram is reduced to the table's keys by month first and the year to date
-- summed from the months; the running count per cell is one window over an integer
-- cell number (sorting on six text keys was most of the time: issue 17).
-- Markers: "x" where the count is "x" (nothing submitted) or no record has the dates the
-- median needs; "z" where there were no tests (a median of nothing does not apply).
-- Records: the count cell's records, whether or not they carry the dates
-- (PUBLICATION.md section 3): the policy suppresses a median of 1 or 2 records (`did`)
-- as "c" even when it is "x" here for want of dates, as NHS England publishes "*".

WITH monthly AS (  -- the histogram reduced to this table's keys, once
    SELECT row_label, source_setting, region_code, provider_code, test_month, days,
           sum(n) AS n
    FROM table_waits
    GROUP BY ALL
),
by_period AS (  -- a month is its own period; the year to date sums the months
    SELECT m.row_label, m.source_setting, m.region_code, m.provider_code, p.period, m.days,
           m.n
    FROM monthly AS m
    JOIN period_months AS p ON p.test_month = m.test_month AND p.period = m.test_month
    UNION ALL
    SELECT m.row_label, m.source_setting, m.region_code, m.provider_code, p.period, m.days,
           sum(m.n)
    FROM monthly AS m
    JOIN period_months AS p ON p.test_month = m.test_month AND p.period <> m.test_month
    GROUP BY ALL
),
levels AS (  -- provider, region and England in one roll-up (macros.sql)
    SELECT geography_level(grouping(region_code), grouping(provider_code)) AS geography_level,
           geography_code(region_code, grouping(region_code)) AS region_code,
           geography_code(provider_code, grouping(provider_code)) AS provider_code,
           row_label, source_setting, period, days, sum(n) AS n
    FROM by_period GROUP BY row_label, source_setting, period, days, ROLLUP (region_code, provider_code)
),
cells AS (  -- one row per cell, numbered: the ordered pass sorts on one integer
    SELECT *, row_number() OVER (ORDER BY geography_level, region_code, provider_code,
                                          row_label, source_setting, period) AS cell
    FROM (SELECT geography_level, region_code, provider_code, row_label, source_setting,
                 period, sum(n) AS records
          FROM levels GROUP BY ALL)
),
running AS (  -- the one ordered pass: records up to each day, cell by cell
    SELECT c.cell, c.records, l.days,
           sum(l.n) OVER (PARTITION BY c.cell ORDER BY l.days
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_n
    FROM levels AS l
    JOIN cells AS c USING (geography_level, region_code, provider_code, row_label,
                           source_setting, period)
),
medians AS (
    SELECT cell,
           (min(days) FILTER (WHERE running_n >= (records + 1) // 2)
            + min(days) FILTER (WHERE running_n >= records // 2 + 1)) / 2.0 AS median_days
    FROM running
    GROUP BY cell
)
SELECT
    g.geography_level, g.region_code, g.provider_code, g.row_label, g.source_setting,
    g.period,
    CASE WHEN g.marker = '' AND g.value > 0 THEN m.median_days END AS value,
    g.records,
    CASE WHEN g.marker = 'x' THEN 'x'
         WHEN g.value = 0 THEN 'z'
         WHEN m.median_days IS NULL THEN 'x'
         ELSE '' END AS marker
FROM count_grid AS g
LEFT JOIN cells AS c USING (geography_level, region_code, provider_code, row_label,
                            source_setting, period)
LEFT JOIN medians AS m USING (cell);
