-- What counts, every month: the files' shares (file_cube, file_waits,
-- file_commissioner_cube: cube.sql run on each file's derived records) less the share of the superseded records
-- (superseded_cube, superseded_waits: cube.sql run on superseded_records). A cell or a
-- day whose records were all superseded is left out, as if never submitted.
--
-- Stage resolve writes (publish/stage_tables.py reads these lines; the build checks them):
--   counted_cube: what counts: the files' cubes less the superseded share
--     region_code provider_code modality source_setting_code cancer_test_group
--     interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31
--     n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day
--     n_reported_by_next_day n_reported_by_7_days n_reported_by_14_days
--     n_reported_over_28_days
--   counted_waits: what counts, per day of wait
--     wait region_code provider_code modality cancer_test_group gp_direct_access
--     interventional test_month days n
--   counted_commissioner_cube: what counts, by commissioner in day bands
--     sub_icb_code modality cancer_test_group gp_direct_access test_month wait measure n

CREATE OR REPLACE TABLE counted_cube AS
SELECT
    region_code, provider_code, modality, source_setting_code, cancer_test_group,
    interventional, test_month,
    CAST(sum(n) AS BIGINT) AS n,
    CAST(sum(n_request_to_test_known) AS BIGINT) AS n_request_to_test_known,
    CAST(sum(n_days_0_to_7) AS BIGINT) AS n_days_0_to_7,
    CAST(sum(n_days_8_to_31) AS BIGINT) AS n_days_8_to_31,
    CAST(sum(n_days_32_to_62) AS BIGINT) AS n_days_32_to_62,
    CAST(sum(n_days_over_62) AS BIGINT) AS n_days_over_62,
    CAST(sum(n_report_time_known) AS BIGINT) AS n_report_time_known,
    CAST(sum(n_reported_same_day) AS BIGINT) AS n_reported_same_day,
    CAST(sum(n_reported_by_next_day) AS BIGINT) AS n_reported_by_next_day,
    CAST(sum(n_reported_by_7_days) AS BIGINT) AS n_reported_by_7_days,
    CAST(sum(n_reported_by_14_days) AS BIGINT) AS n_reported_by_14_days,
    CAST(sum(n_reported_over_28_days) AS BIGINT) AS n_reported_over_28_days
FROM (
    SELECT region_code, provider_code, modality, source_setting_code, cancer_test_group,
           interventional, test_month, n, n_request_to_test_known, n_days_0_to_7,
           n_days_8_to_31, n_days_32_to_62, n_days_over_62, n_report_time_known,
           n_reported_same_day, n_reported_by_next_day, n_reported_by_7_days,
           n_reported_by_14_days, n_reported_over_28_days
    FROM file_cube
    UNION ALL
    SELECT region_code, provider_code, modality, source_setting_code, cancer_test_group,
           interventional, test_month, -n, -n_request_to_test_known, -n_days_0_to_7,
           -n_days_8_to_31, -n_days_32_to_62, -n_days_over_62, -n_report_time_known,
           -n_reported_same_day, -n_reported_by_next_day, -n_reported_by_7_days,
           -n_reported_by_14_days, -n_reported_over_28_days
    FROM superseded_cube
) AS shares
GROUP BY region_code, provider_code, modality, source_setting_code, cancer_test_group,
         interventional, test_month
HAVING sum(n) > 0;

CREATE OR REPLACE TABLE counted_waits AS
SELECT
    wait, region_code, provider_code, modality, cancer_test_group, gp_direct_access,
    interventional, test_month, days, CAST(sum(n) AS BIGINT) AS n
FROM (
    SELECT wait, region_code, provider_code, modality, cancer_test_group, gp_direct_access,
           interventional, test_month, days, n
    FROM file_waits
    UNION ALL
    SELECT wait, region_code, provider_code, modality, cancer_test_group, gp_direct_access,
           interventional, test_month, days, -n
    FROM superseded_waits
) AS shares
GROUP BY wait, region_code, provider_code, modality, cancer_test_group, gp_direct_access,
         interventional, test_month, days
HAVING sum(n) > 0;

CREATE OR REPLACE TABLE counted_commissioner_cube AS
SELECT
    sub_icb_code, modality, cancer_test_group, gp_direct_access, test_month, wait, measure,
    CAST(sum(n) AS BIGINT) AS n
FROM (
    SELECT sub_icb_code, modality, cancer_test_group, gp_direct_access, test_month, wait,
           measure, n
    FROM file_commissioner_cube
    UNION ALL
    SELECT sub_icb_code, modality, cancer_test_group, gp_direct_access, test_month, wait,
           measure, -n
    FROM superseded_commissioner_cube
) AS shares
GROUP BY sub_icb_code, modality, cancer_test_group, gp_direct_access, test_month, wait,
         measure
HAVING sum(n) > 0;
