-- Stage 4a, aggregate: counts and per-day wait histograms for the publication's months.
--
-- Every table is built from these two small tables, never from the records again:
-- counts add up, and a median of whole days is exact from the count of records on each
-- day, at any level (provider, region, England) and for any period (month, year to date).
-- publication_months(test_month) lists the months of the financial year to date.

CREATE OR REPLACE TABLE activity_cube AS
SELECT
    region_code, provider_code, modality, source_setting_code, cancer_test_group,
    interventional, test_month,
    count(*) AS n,
    count(days_request_to_test) AS n_request_to_test_known,
    count(*) FILTER (WHERE days_request_to_test BETWEEN 0 AND 7) AS n_days_0_to_7,
    count(*) FILTER (WHERE days_request_to_test BETWEEN 8 AND 31) AS n_days_8_to_31,
    count(*) FILTER (WHERE days_request_to_test BETWEEN 32 AND 62) AS n_days_32_to_62,
    count(*) FILTER (WHERE days_request_to_test > 62) AS n_days_over_62,
    count(days_test_to_report) AS n_report_time_known,
    count(*) FILTER (WHERE days_test_to_report = 0) AS n_reported_same_day,
    count(*) FILTER (WHERE days_test_to_report <= 1) AS n_reported_by_next_day
FROM activity_records
WHERE test_month IN (SELECT test_month FROM publication_months)
GROUP BY ALL;

CREATE OR REPLACE TABLE wait_histogram AS
SELECT
    'request_to_test' AS wait, region_code, provider_code, modality, cancer_test_group,
    source_setting_code = '04' AS gp_direct_access, interventional, test_month,
    days_request_to_test AS days, count(*) AS n
FROM activity_records
WHERE test_month IN (SELECT test_month FROM publication_months)
  AND days_request_to_test IS NOT NULL
GROUP BY ALL
UNION ALL
SELECT
    'test_to_report', region_code, provider_code, modality, cancer_test_group,
    source_setting_code = '04', interventional, test_month,
    days_test_to_report, count(*)
FROM activity_records
WHERE test_month IN (SELECT test_month FROM publication_months)
  AND days_test_to_report IS NOT NULL
GROUP BY ALL;

-- Where something was submitted: a provider (in a region), a region or England with no
-- record at all in a month gets "x" (no data submitted) rather than 0.
CREATE OR REPLACE TABLE submitted_periods AS
WITH months AS (SELECT DISTINCT region_code, provider_code, test_month FROM activity_cube)
SELECT DISTINCT 'provider' AS geography_level, m.region_code, m.provider_code, p.period
FROM months AS m JOIN period_months AS p USING (test_month)
UNION ALL
SELECT DISTINCT 'region', m.region_code, '', p.period
FROM months AS m JOIN period_months AS p USING (test_month)
UNION ALL
SELECT DISTINCT 'england', '', '', p.period
FROM months AS m JOIN period_months AS p USING (test_month);
