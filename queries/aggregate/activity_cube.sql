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
SELECT DISTINCT 'provider' AS geography_level, m.region_code, m.provider_code, p.period
FROM months AS m JOIN period_months AS p USING (test_month)
UNION ALL
SELECT DISTINCT 'region', m.region_code, '', p.period
FROM months AS m JOIN period_months AS p USING (test_month)
UNION ALL
SELECT DISTINCT 'england', '', '', p.period
FROM months AS m JOIN period_months AS p USING (test_month);
