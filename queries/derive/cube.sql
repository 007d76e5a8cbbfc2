-- The share of a set of records in every table: counts, and counts per day of wait.
--
-- Reads cube_records (a view: the derived records of the files just validated, or the
-- records a resubmission superseded); writes records_cube and records_waits, per file.
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
--     n_reported_by_next_day
--   records_waits: the records of cube_records per day of wait, per file
--     file_id wait region_code provider_code modality cancer_test_group gp_direct_access
--     interventional test_month days n

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
    count(CASE WHEN days_test_to_report <= 1 THEN 1 END) AS n_reported_by_next_day
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
