-- Stage 3, derive: the accepted records that count, with the fields the tables need.
--
-- A record counts when it broke no rejection rule and no later accepted record has the
-- same (site code, accession number): a resubmission replaces the earlier record, and
-- a rejected resubmission leaves the earlier accepted one in place (INPUT.md). Files are
-- ranked by input_files.file_order (submission date, then name).
--
-- Derivations (INPUT.md section 2): provider and region from the site; modality, body
-- region, interventional flag and cancer test group from the SNOMED code when given,
-- else the NICIP code, as at the test date; month of test; days request (else
-- received) to test; days test to report; days request (else received) to report.
-- (date_diff and year() rather than date - date: the same text runs on Spark.)

CREATE OR REPLACE TABLE activity_records AS
WITH latest AS (
    SELECT *
    FROM checked_records
    WHERE len(rejection_codes) = 0
    QUALIFY row_number() OVER (
        PARTITION BY site_code, accession_number ORDER BY file_order DESC, row_number DESC
    ) = 1
)
SELECT
    r.file_id,
    r.row_number,
    s.region_code,
    s.region_name,
    s.provider_code,
    s.provider_name,
    c.modality,
    c.body_region,
    c.interventional = 'Y' AS interventional,
    c.cancer_test_group,
    r.source_setting_code,
    r.test_date,
    strftime(r.test_date, '%Y-%m') AS test_month,
    date_diff('day', coalesce(r.request_date, r.received_date), r.test_date)
        AS days_request_to_test,
    date_diff('day', r.test_date, r.report_date) AS days_test_to_report,
    date_diff('day', coalesce(r.request_date, r.received_date), r.report_date)
        AS days_request_to_report,
    year(r.test_date) - year(r.birth_date)
        - CASE WHEN strftime(r.test_date, '%m-%d') < strftime(r.birth_date, '%m-%d')
               THEN 1 ELSE 0 END AS age_at_test
FROM latest AS r
JOIN sites AS s ON s.site_code = r.site_code
JOIN imaging_codes AS c
  ON c.code_system = CASE WHEN r.snomed_code IS NOT NULL THEN 'SNOMED' ELSE 'NICIP' END
 AND c.code = coalesce(r.snomed_code, r.nicip_code)
 AND r.test_date >= c.valid_from
 AND (c.valid_to IS NULL OR r.test_date <= c.valid_to);
