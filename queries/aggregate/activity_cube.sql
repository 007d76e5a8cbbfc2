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
--     n_reported_by_next_day n_reported_by_7_days n_reported_by_14_days
--     n_reported_over_28_days
--   wait_histogram: the counted waits with labels
--     wait region_code provider_code modality cancer_test_group gp_direct_access
--     interventional test_month days n
--   submitted_periods: where something was submitted, by geography and period
--     geography_level region_code provider_code period
--   commissioner_cube: the counted commissioner cube, placed in regions (tables 7a, 7b, 8)
--     region_code commissioner_code modality cancer_test_group gp_direct_access
--     test_month wait measure n

CREATE OR REPLACE TABLE activity_cube AS
SELECT * FROM counted_cube WHERE test_month IN (SELECT test_month FROM publication_months);

CREATE OR REPLACE TABLE wait_histogram AS
SELECT * FROM counted_waits WHERE test_month IN (SELECT test_month FROM publication_months);

-- Tables 7a, 7b and 8: the commissioner cube, its sub-ICB locations named and placed in
-- their region (as at the latest date the reference gives them); "Unknown" (no region)
-- where the practice is missing or not in the reference.
CREATE OR REPLACE TABLE commissioner_cube AS
WITH commissioners AS (
    SELECT sub_icb_code, arg_max(sub_icb_name, valid_from) AS sub_icb_name,
           arg_max(region_code, valid_from) AS region_code
    FROM practices GROUP BY sub_icb_code
)
SELECT coalesce(c.region_code, '') AS region_code,
       CASE WHEN k.sub_icb_code = '' THEN 'Unknown' ELSE k.sub_icb_code END AS commissioner_code,
       k.modality, k.cancer_test_group, k.gp_direct_access, k.test_month, k.wait, k.measure, k.n
FROM counted_commissioner_cube AS k
LEFT JOIN commissioners AS c ON c.sub_icb_code = k.sub_icb_code
WHERE k.test_month IN (SELECT test_month FROM publication_months);

-- Where something was submitted: a provider (in a region), a region or England with no
-- record at all in a month gets "x" (no data submitted) rather than 0.
-- (Periods are months, the year to date and quarters: table 13.)
CREATE OR REPLACE TABLE submitted_periods AS
WITH months AS (SELECT DISTINCT region_code, provider_code, test_month FROM activity_cube),
periods AS (SELECT * FROM period_months UNION SELECT * FROM quarter_months)
SELECT geography_level(grouping(region_code), grouping(provider_code)) AS geography_level,
       geography_code(region_code, grouping(region_code)) AS region_code,
       geography_code(provider_code, grouping(provider_code)) AS provider_code, period
FROM months JOIN periods USING (test_month)
GROUP BY period, ROLLUP (region_code, provider_code);
