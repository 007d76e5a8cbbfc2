-- Stage 3, derive: from the checked records of the files just validated, the three
-- things every later stage reads. Each is per file, so that a file's share can be kept
-- (the record store) and the next build add a month without redoing the others.
--
--   derived_records  every accepted record, with the fields the tables need
--                    (INPUT.md section 2) and a 64-bit hash of its (site, accession
--                    number) key, before resubmissions are resolved (resolve.sql);
--                    cube.sql then sums each file's share of the tables;
--   record_outcomes  how many records of each file, provider and month of test broke
--                    which rules (the data-quality report and the manifest's counts);
--   flagged_records  the records that broke a rule, as received, for the restricted
--                    quarantine and warnings files.
--
-- Derivations: provider and region from the site; the commissioner (sub-ICB location)
-- from the GP practice as at the test date, NULL where the practice is missing or not
-- in the reference (published as commissioner "Unknown"); modality, body region, interventional
-- flag and cancer test group from the SNOMED code when given, else the NICIP code, as
-- at the test date (looked up in validate.sql); month of test; days request (else
-- received) to test; days test to report; days request (else received) to report; age
-- at test. (date_diff and year() rather than date - date: the same text runs on Spark.)
--
-- Stage ingest writes (publish/stage_tables.py reads these lines; the build checks them):
--   derived_records: the accepted records, derived: provider, region, modality, waits
--     file_id row_number site_code accession_number key_hash region_code provider_code
--     sub_icb_code modality body_region interventional cancer_test_group
--     source_setting_code test_month days_request_to_test days_test_to_report
--     days_request_to_report age_at_test
--   record_outcomes: records per file, provider and month of test, by the rules they broke
--     file_id region_code provider_code month rejection_codes warning_codes n
--   flagged_records: the records that broke a rule, as received, with their rule codes
--     rejection_codes warning_codes file_id row_number NHS_NUMBER NHS_NUMBER_STATUS_IND
--     PERSON_BIRTH_DATE ETHNIC_CATEGORY PERSON_GENDER_CODE POSTCODE PRACTICE_CODE
--     PATIENT_SOURCE_SETTING REFERRER REFERRING_ORG_CODE DIAGNOSTIC_TEST_REQUEST_DATE
--     DIAG_TEST_REQUEST_REC_DATE DIAGNOSTIC_TEST_DATE IMAGING_CODE_NICIP
--     IMAGING_CODE_SNOMED SERVICE_REPORT_DATE SITE_CODE_IMAGING
--     RADIOLOGICAL_ACCESSION_NUM

CREATE OR REPLACE TABLE derived_records AS
SELECT
    file_id,
    row_number,
    site_code,
    accession_number,
    hash(site_code, accession_number) AS key_hash,
    region_code,
    provider_code,
    sub_icb_code,
    modality,
    body_region,
    interventional_flag = 'Y' AS interventional,
    cancer_test_group,
    source_setting_code,
    strftime(test_date, '%Y-%m') AS test_month,
    date_diff('day', coalesce(request_date, received_date), test_date) AS days_request_to_test,
    date_diff('day', test_date, report_date) AS days_test_to_report,
    date_diff('day', coalesce(request_date, received_date), report_date)
        AS days_request_to_report,
    year(test_date) - year(birth_date)
        - CASE WHEN strftime(test_date, '%m-%d') < strftime(birth_date, '%m-%d')
               THEN 1 ELSE 0 END AS age_at_test
FROM checked_records
WHERE len(rejection_codes) = 0;

-- Provider from the site where the site is known, month where the test date is valid.
CREATE OR REPLACE TABLE record_outcomes AS
SELECT
    file_id,
    region_code,
    provider_code,
    strftime(test_date, '%Y-%m') AS month,
    rejection_codes,
    warning_codes,
    count(*) AS n
FROM checked_records
GROUP BY file_id, region_code, provider_code, strftime(test_date, '%Y-%m'),
         rejection_codes, warning_codes;

CREATE OR REPLACE TABLE flagged_records AS
SELECT c.rejection_codes, c.warning_codes, r.*
FROM checked_records AS c
JOIN submission_records AS r ON r.file_id = c.file_id AND r.row_number = c.row_number
WHERE len(c.rejection_codes) > 0 OR len(c.warning_codes) > 0;
