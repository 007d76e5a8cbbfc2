-- Stage 2, validate: every record rule of INPUT.md section 1, set-based.
--
-- Reads submission_records (as received), input_files (submission dates; the build date
-- stands in for a missing one in DIDS051 and DIDS066), sites,
-- imaging_codes and practices. Writes checked_records: the trimmed and typed values each later stage
-- needs, what the site and imaging code look up to (INPUT.md section 2), and for every
-- record the list of DIDS rejection codes and warning codes it broke (a record breaks
-- every rule that applies to it). A rule comparing two dates is
-- not applied when either date is missing or invalid: NULL comparisons are not true.
--
-- Stage ingest writes (publish/stage_tables.py reads these lines; the build checks them):
--   checked_records: every record's trimmed, typed values and the rules it broke (dropped once derived)
--     file_id row_number file_order site_code accession_number source_setting_code
--     referrer_code nicip_code snomed_code birth_date request_date received_date
--     test_date report_date region_code provider_code sub_icb_code modality body_region
--     interventional_flag cancer_test_group rejection_codes warning_codes

CREATE OR REPLACE TABLE checked_records AS
WITH received AS (
    -- Each record as received, and whether any field it has is to be trimmed.
    SELECT
        *,
        edge_blank_in(concat_ws(
            chr(31),
            "NHS_NUMBER",
            "NHS_NUMBER_STATUS_IND",
            "PERSON_BIRTH_DATE",
            "ETHNIC_CATEGORY",
            "PERSON_GENDER_CODE",
            "POSTCODE",
            "PRACTICE_CODE",
            "PATIENT_SOURCE_SETTING",
            "REFERRER",
            "DIAGNOSTIC_TEST_REQUEST_DATE",
            "DIAG_TEST_REQUEST_REC_DATE",
            "DIAGNOSTIC_TEST_DATE",
            "IMAGING_CODE_NICIP",
            "IMAGING_CODE_SNOMED",
            "SERVICE_REPORT_DATE",
            "SITE_CODE_IMAGING",
            "RADIOLOGICAL_ACCESSION_NUM"
        )) AS has_edge_blank
    FROM submission_records
),
trimmed AS (
    SELECT
        r.file_id,
        r.row_number,
        f.file_order,
        f.submission_date,
        f.build_date,
        received_value(r."NHS_NUMBER", r.has_edge_blank) AS nhs_number,
        received_value(r."NHS_NUMBER_STATUS_IND", r.has_edge_blank) AS nhs_number_status,
        received_value(r."PERSON_BIRTH_DATE", r.has_edge_blank) AS birth_date_text,
        -- Codes as given (INPUT.md): an ethnic category `a` is not `A` (DIDS012).
        received_value(r."ETHNIC_CATEGORY", r.has_edge_blank) AS ethnic_category,
        received_value(r."PERSON_GENDER_CODE", r.has_edge_blank) AS gender_code,
        received_value(r."POSTCODE", r.has_edge_blank) AS postcode,
        received_value(r."PRACTICE_CODE", r.has_edge_blank) AS practice_code,
        received_value(r."PATIENT_SOURCE_SETTING", r.has_edge_blank) AS source_setting_code,
        upper(received_value(r."REFERRER", r.has_edge_blank)) AS referrer_code,
        received_value(r."DIAGNOSTIC_TEST_REQUEST_DATE", r.has_edge_blank) AS request_date_text,
        received_value(r."DIAG_TEST_REQUEST_REC_DATE", r.has_edge_blank) AS received_date_text,
        received_value(r."DIAGNOSTIC_TEST_DATE", r.has_edge_blank) AS test_date_text,
        upper(received_value(r."IMAGING_CODE_NICIP", r.has_edge_blank)) AS nicip_code,
        received_value(r."IMAGING_CODE_SNOMED", r.has_edge_blank) AS snomed_code,
        received_value(r."SERVICE_REPORT_DATE", r.has_edge_blank) AS report_date_text,
        upper(received_value(r."SITE_CODE_IMAGING", r.has_edge_blank)) AS site_code,
        received_value(r."RADIOLOGICAL_ACCESSION_NUM", r.has_edge_blank) AS accession_number
    FROM received AS r
    JOIN input_files AS f USING (file_id)
),
typed AS (
    SELECT
        *,
        parse_submission_date(birth_date_text) AS birth_date,
        parse_submission_date(request_date_text) AS request_date,
        parse_submission_date(received_date_text) AS received_date,
        parse_submission_date(test_date_text) AS test_date,
        parse_submission_date(report_date_text) AS report_date,
        CAST(date_trunc('month', submission_date) AS DATE) AS submission_month_start
    FROM trimmed
),
code_periods AS (
    -- A record with no valid test date is checked against any period of its code: the
    -- first period stands for the code (periods of one code never overlap).
    SELECT *, row_number() OVER (PARTITION BY code_system, code ORDER BY valid_from) = 1
              AS first_period
    FROM imaging_codes
),
keys_repeated_in_file AS (
    SELECT file_id, site_code, accession_number
    FROM typed
    WHERE site_code IS NOT NULL AND accession_number IS NOT NULL
    GROUP BY file_id, site_code, accession_number
    HAVING count(*) > 1
),
looked_up AS (
    -- Lookups are equality joins (each matches at most one row): the site (its provider
    -- for the period of the test date), the NICIP and the SNOMED code as at the test date, and the in-file repeated keys (DIDS071).
    SELECT
        t.*,
        n.code IS NOT NULL AS nicip_known,
        m.code IS NOT NULL AS snomed_known,
        s.site_code IS NOT NULL AS site_known,
        k.file_id IS NOT NULL AS key_repeated_in_file,
        s.region_code,
        s.provider_code,
        -- the commissioner (tables 7 and 8): the practice's sub-ICB as at the test date
        gp.sub_icb_code,
        -- INPUT.md section 2: the SNOMED code when given, else the NICIP code.
        CASE WHEN t.snomed_code IS NOT NULL THEN m.modality ELSE n.modality END AS modality,
        CASE WHEN t.snomed_code IS NOT NULL THEN m.body_region ELSE n.body_region END
            AS body_region,
        CASE WHEN t.snomed_code IS NOT NULL THEN m.interventional ELSE n.interventional END
            AS interventional_flag,
        CASE WHEN t.snomed_code IS NOT NULL THEN m.cancer_test_group
             ELSE n.cancer_test_group END AS cancer_test_group
    FROM typed AS t
    LEFT JOIN sites AS s
      ON s.site_code = t.site_code
     AND CASE WHEN t.test_date IS NULL THEN s.first_period
              ELSE t.test_date >= s.valid_from
                   AND (s.valid_to IS NULL OR t.test_date <= s.valid_to) END
    LEFT JOIN practices AS gp
      ON gp.practice_code = upper(t.practice_code)
     AND t.test_date >= gp.valid_from AND (gp.valid_to IS NULL OR t.test_date <= gp.valid_to)
    LEFT JOIN code_periods AS n
      ON n.code_system = 'NICIP' AND n.code = t.nicip_code
     AND CASE WHEN t.test_date IS NULL THEN n.first_period
              ELSE t.test_date >= n.valid_from
                   AND (n.valid_to IS NULL OR t.test_date <= n.valid_to) END
    LEFT JOIN code_periods AS m
      ON m.code_system = 'SNOMED' AND m.code = t.snomed_code
     AND CASE WHEN t.test_date IS NULL THEN m.first_period
              ELSE t.test_date >= m.valid_from
                   AND (m.valid_to IS NULL OR t.test_date <= m.valid_to) END
    LEFT JOIN keys_repeated_in_file AS k
      ON k.file_id = t.file_id AND k.site_code = t.site_code
     AND k.accession_number = t.accession_number
),
flagged AS (
    SELECT
        *,
        list_filter([
            CASE WHEN nhs_number IS NOT NULL
                  AND NOT (regexp_full_match(nhs_number, '[0-9]{10}')
                           AND nhs_number_check_digit_ok(nhs_number)) THEN 'DIDS001' END,
            CASE WHEN nhs_number IS NOT NULL
                  AND NOT regexp_full_match(nhs_number, '[0-9]{10}') THEN 'DIDS002' END,
            CASE WHEN nhs_number_status IS NOT NULL
                  AND nhs_number_status NOT IN ('01', '02', '03', '04', '05', '06', '07', '08')
                 THEN 'DIDS003' END,
            CASE WHEN birth_date_text IS NOT NULL AND birth_date IS NULL THEN 'DIDS005' END,
            CASE WHEN birth_date > test_date THEN 'DIDS006' END,
            CASE WHEN birth_date <= DATE '1900-01-01' THEN 'DIDS009' END,
            CASE WHEN ethnic_category IS NOT NULL
                  AND ethnic_category NOT IN ('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K',
                                              'L', 'M', 'N', 'P', 'R', 'S', 'Z', '99')
                 THEN 'DIDS012' END,
            CASE WHEN gender_code IS NOT NULL AND gender_code NOT IN ('0', '1', '2', '9')
                 THEN 'DIDS014' END,
            CASE WHEN source_setting_code IS NULL THEN 'DIDS020' END,
            CASE WHEN source_setting_code NOT IN ('01', '02', '03', '04', '05', '06', '07')
                 THEN 'DIDS021' END,
            CASE WHEN request_date_text IS NOT NULL AND request_date IS NULL THEN 'DIDS026' END,
            CASE WHEN request_date > received_date THEN 'DIDS027' END,
            CASE WHEN request_date < DATE '1970-01-01' THEN 'DIDS031' END,
            CASE WHEN request_date > test_date THEN 'DIDS034' END,
            CASE WHEN report_date < request_date THEN 'DIDS035' END,
            CASE WHEN received_date_text IS NOT NULL AND received_date IS NULL THEN 'DIDS036' END,
            CASE WHEN received_date < DATE '1970-01-01' THEN 'DIDS041' END,
            CASE WHEN received_date > test_date THEN 'DIDS043' END,
            CASE WHEN test_date_text IS NOT NULL AND test_date IS NULL THEN 'DIDS045' END,
            CASE WHEN report_date < test_date THEN 'DIDS048' END,
            CASE WHEN test_date_text IS NULL THEN 'DIDS050' END,
            CASE WHEN test_date > coalesce(submission_date, build_date) THEN 'DIDS051' END,
            CASE WHEN test_date < submission_month_start - INTERVAL 6 MONTH THEN 'DIDS055' END,
            CASE WHEN nicip_code IS NULL AND snomed_code IS NULL THEN 'DIDS056' END,
            CASE WHEN nicip_code IS NOT NULL AND NOT nicip_known THEN 'DIDS057' END,
            CASE WHEN snomed_code IS NOT NULL AND NOT snomed_known THEN 'DIDS059' END,
            CASE WHEN report_date_text IS NOT NULL AND report_date IS NULL THEN 'DIDS061' END,
            CASE WHEN report_date > coalesce(submission_date, build_date) THEN 'DIDS066' END,
            CASE WHEN site_code IS NULL THEN 'DIDS067' END,
            CASE WHEN site_code IS NOT NULL AND regexp_full_match(site_code, '[A-Z0-9]{5,12}')
                  AND NOT site_known THEN 'DIDS068' END,
            CASE WHEN site_code IS NOT NULL
                  AND NOT regexp_full_match(site_code, '[A-Z0-9]{5,12}') THEN 'DIDS069' END,
            CASE WHEN accession_number IS NULL THEN 'DIDS070' END,
            CASE WHEN site_code IS NOT NULL AND accession_number IS NOT NULL
                  AND key_repeated_in_file THEN 'DIDS071' END,
            CASE WHEN length(accession_number) > 20 THEN 'DIDS072' END,
            CASE WHEN ethnic_category IS NULL AND nhs_number IS NULL AND birth_date_text IS NULL
                  AND gender_code IS NULL AND postcode IS NULL AND practice_code IS NULL
                 THEN 'DIDS073' END
        ], lambda code: code IS NOT NULL) AS rejection_codes,
        list_filter([
            CASE WHEN referrer_code IS NOT NULL AND NOT regexp_full_match(referrer_code,
                    '[CDGS][0-9]{1,7}|(CH|DT|CD|PH|SL)[0-9]{1,6}|[0-9]{2}[A-Z][0-9]{4}[A-Z]'
                    || '|Z[ENSW][0-9]{6}|H9999998|M9999998|R9999981|A9999998|P9999981'
                    || '|X9999998|N9999998') THEN 'DIDS023' END,
            CASE WHEN request_date < test_date - INTERVAL 1 YEAR THEN 'DIDS028' END,
            CASE WHEN received_date < test_date - INTERVAL 1 YEAR THEN 'DIDS038' END,
            CASE WHEN test_date < submission_month_start - INTERVAL 3 MONTH
                  AND NOT coalesce(test_date < submission_month_start - INTERVAL 6 MONTH, false)
                 THEN 'DIDS049' END,
            CASE WHEN report_date > test_date + INTERVAL 1 MONTH THEN 'DIDS062' END
        ], lambda code: code IS NOT NULL) AS warning_codes
    FROM looked_up
)
SELECT
    file_id, row_number, file_order, site_code, accession_number, source_setting_code,
    referrer_code, nicip_code, snomed_code, birth_date, request_date, received_date,
    test_date, report_date, region_code, provider_code, sub_icb_code, modality, body_region,
    interventional_flag, cancer_test_group, rejection_codes, warning_codes
FROM flagged;
