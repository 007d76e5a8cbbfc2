-- Stage 4a, aggregate: counts and per-day wait histograms for the publication's months.
--
-- Every table is built from these two small tables (counted.sql's, for the months of
-- the financial year to date listed in publication_months), never from the records:
-- counts add up, and a median of whole days is exact from the count of records on each
-- day, at any level (provider, region, England) and for any period (month, year to date).
--
-- Stage aggregate writes (publish/stage_tables.py reads these lines; the build checks them):
--   activity_cube: the counted cube with labels, for every table
--     region_code provider_code modality source_setting_code cancer_test_group
--     interventional test_month n n_request_to_test_known n_days_0_to_7 n_days_8_to_31
--     n_days_32_to_62 n_days_over_62 n_report_time_known n_reported_same_day
--     n_reported_by_next_day
--   wait_histogram: the counted waits with labels
--     wait region_code provider_code modality cancer_test_group gp_direct_access
--     interventional test_month days n
--   submitted_periods: where something was submitted, by geography and period
--     geography_level region_code provider_code period

CREATE OR REPLACE TABLE activity_cube AS
SELECT * FROM counted_cube WHERE test_month IN (SELECT test_month FROM publication_months);

CREATE OR REPLACE TABLE wait_histogram AS
SELECT * FROM counted_waits WHERE test_month IN (SELECT test_month FROM publication_months);

-- Where something was submitted: a provider (in a region), a region or England with no
-- record at all in a month gets "x" (no data submitted) rather than 0.
CREATE OR REPLACE TABLE submitted_periods AS
WITH months AS (SELECT DISTINCT region_code, provider_code, test_month FROM activity_cube)
SELECT geography_level(grouping(region_code), grouping(provider_code)) AS geography_level,
       geography_code(region_code, grouping(region_code)) AS region_code,
       geography_code(provider_code, grouping(provider_code)) AS provider_code, period
FROM months JOIN period_months USING (test_month)
GROUP BY period, ROLLUP (region_code, provider_code);
