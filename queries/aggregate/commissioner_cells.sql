-- Stage 4e: the cells of a commissioner table (tables 7a, 7b and 8), year to date.
--
-- Reads the view table_commissioner_counts(row_label, source_setting, region_code,
-- commissioner_code, measure, n) that the caller defines for the table (the year to
-- date's records in the day bands of one wait), table_settings(source_setting),
-- table_count_measures(measure) (the bands) and the year to date $ytd. Rows: England,
-- then every commissioner (in its region; "Unknown" without one) with a record of the
-- row label, each with every setting, band and the total (`activity_count`, the sum of
-- the bands: each record is in one band). A missing cell is 0: the year to date always
-- has records (a commissioner row exists only where it has some).

WITH levels AS (
    SELECT 'commissioner' AS geography_level, region_code, commissioner_code, row_label,
           source_setting, measure, sum(n) AS n
    FROM table_commissioner_counts GROUP BY ALL
    UNION ALL
    SELECT 'england', '', '', row_label, source_setting, measure, sum(n)
    FROM table_commissioner_counts GROUP BY ALL
),
with_totals AS (
    SELECT * FROM levels
    UNION ALL
    SELECT geography_level, region_code, commissioner_code, row_label, source_setting,
           'activity_count', sum(n)
    FROM levels GROUP BY ALL
),
row_set AS (
    SELECT DISTINCT geography_level, region_code, commissioner_code, row_label
    FROM with_totals WHERE n > 0
),
grid AS (
    SELECT r.*, s.source_setting, m.measure
    FROM row_set AS r
    CROSS JOIN table_settings AS s
    CROSS JOIN (SELECT measure FROM table_count_measures
                UNION ALL SELECT 'activity_count') AS m
)
SELECT g.geography_level, g.region_code, g.commissioner_code AS provider_code, g.row_label,
       g.source_setting, $ytd AS period, g.measure,
       coalesce(t.n, 0) AS value, coalesce(t.n, 0) AS records, '' AS marker
FROM grid AS g
LEFT JOIN with_totals AS t
  USING (geography_level, region_code, commissioner_code, row_label, source_setting, measure);
