-- Stage 4a, aggregate: counts and per-day wait histograms for the publication's months.
--
-- Every table is built from these two small tables (counted.sql's, for the months of
-- the financial year to date listed in publication_months), never from the records:
-- counts add up, and a median of whole days is exact from the count of records on each
-- day, at any level (provider, region, England) and for any period (month, year to date).

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
