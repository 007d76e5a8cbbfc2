-- The share of a set of records in every table: counts, and counts per day of wait.
--
-- Reads cube_records (a view: the derived records of the files just validated, or the
-- records a resubmission superseded); writes records_cube, records_waits and
-- records_commissioner_cube, per file.
-- Both are additive: the tables of any set of files are the sum of the files' shares
-- less the share of the superseded records (resolve.sql), so a build adds up small
-- per-file tables and never re-reads a stored record to count it. A median of whole
-- days is exact from the count of records on each day, at any level and for any period.
--
-- Stage ingest writes (publish/stage_tables.py reads these lines; the build checks them):
--   records_cube: the counts of cube_records, per file
--     file_id region_code provider_code modality source_setting_code cancer_test_group
--     interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31
--     n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day
--     n_reported_by_next_day n_reported_by_7_days n_reported_by_14_days
--     n_reported_over_28_days
--   records_waits: the records of cube_records per day of wait, per file
--     file_id wait region_code provider_code modality cancer_test_group gp_direct_access
--     interventional test_month days n
--   records_commissioner_cube: the records of cube_records by commissioner, in day bands
--     file_id sub_icb_code modality cancer_test_group gp_direct_access test_month wait
--     measure n

CREATE OR REPLACE TABLE records_cube AS
SELECT
    file_id, region_code, provider_code, modality, source_setting_code, cancer_test_group,
    interventional, test_month,
    count(*) AS n,
    count(days_request_to_test) AS n_request_to_test_known,
    count(CASE WHEN days_request_to_test BETWEEN 0 AND 7 THEN 1 END) AS n_days_0_to_7,
    count(CASE WHEN days_request_to_test BETWEEN 8 AND 31 THEN 1 END) AS n_days_8_to_31,
    count(CASE WHEN days_request_to_test BETWEEN 32 AND 62 THEN 1 END) AS n_days_32_to_62,
    count(CASE WHEN days_request_to_test > 62 THEN 1 END) AS n_days_over_62,
    count(days_test_to_report) AS n_report_time_known,
    count(CASE WHEN days_test_to_report = 0 THEN 1 END) AS n_reported_same_day,
    count(CASE WHEN days_test_to_report <= 1 THEN 1 END) AS n_reported_by_next_day,
    count(CASE WHEN days_test_to_report <= 7 THEN 1 END) AS n_reported_by_7_days,
    count(CASE WHEN days_test_to_report <= 14 THEN 1 END) AS n_reported_by_14_days,
    count(CASE WHEN days_test_to_report > 28 THEN 1 END) AS n_reported_over_28_days
FROM cube_records
GROUP BY file_id, region_code, provider_code, modality, source_setting_code,
         cancer_test_group, interventional, test_month;

CREATE OR REPLACE TABLE records_waits AS
SELECT
    file_id, 'request_to_test' AS wait, region_code, provider_code, modality,
    cancer_test_group, source_setting_code = '04' AS gp_direct_access, interventional,
    test_month, days_request_to_test AS days, count(*) AS n
FROM cube_records
WHERE days_request_to_test IS NOT NULL
GROUP BY file_id, region_code, provider_code, modality, cancer_test_group,
         source_setting_code = '04', interventional, test_month, days_request_to_test
UNION ALL
SELECT
    file_id, 'test_to_report', region_code, provider_code, modality, cancer_test_group,
    source_setting_code = '04', interventional, test_month, days_test_to_report, count(*)
FROM cube_records
WHERE days_test_to_report IS NOT NULL
GROUP BY file_id, region_code, provider_code, modality, cancer_test_group,
         source_setting_code = '04', interventional, test_month, days_test_to_report;

-- Tables 7a, 7b and 8 (by commissioner): records by sub-ICB location of the patient's
-- GP practice (empty: not known), modality, cancer test group, GP direct access and
-- month, in the day bands of the two waits (measure names of publish.tables; the bands
-- of a wait cover every record once, "time not known" included).
CREATE OR REPLACE TABLE records_commissioner_cube AS
SELECT
    file_id, coalesce(sub_icb_code, '') AS sub_icb_code, modality, cancer_test_group,
    source_setting_code = '04' AS gp_direct_access, test_month, 'request_to_test' AS wait,
    CASE WHEN days_request_to_test IS NULL THEN 'count_time_not_known'
         WHEN days_request_to_test <= 7 THEN 'count_days_0_to_7'
         WHEN days_request_to_test <= 14 THEN 'count_days_8_to_14'
         WHEN days_request_to_test <= 31 THEN 'count_days_15_to_31'
         WHEN days_request_to_test <= 42 THEN 'count_days_32_to_42'
         WHEN days_request_to_test <= 62 THEN 'count_days_43_to_62'
         WHEN days_request_to_test <= 93 THEN 'count_days_63_to_93'
         WHEN days_request_to_test <= 186 THEN 'count_days_94_to_186'
         WHEN days_request_to_test <= 365 THEN 'count_days_187_to_365'
         ELSE 'count_days_366_and_over' END AS measure,
    count(*) AS n
FROM cube_records
GROUP BY ALL
UNION ALL
SELECT
    file_id, coalesce(sub_icb_code, ''), modality, cancer_test_group,
    source_setting_code = '04', test_month, 'test_to_report',
    CASE WHEN days_test_to_report IS NULL THEN 'count_time_not_known'
         WHEN days_test_to_report <= 7 THEN 'count_days_' || CAST(days_test_to_report AS VARCHAR)
         WHEN days_test_to_report <= 14 THEN 'count_days_8_to_14'
         WHEN days_test_to_report <= 31 THEN 'count_days_15_to_31'
         WHEN days_test_to_report <= 42 THEN 'count_days_32_to_42'
         WHEN days_test_to_report <= 62 THEN 'count_days_43_to_62'
         ELSE 'count_days_63_and_over' END,
    count(*)
FROM cube_records
GROUP BY ALL;
