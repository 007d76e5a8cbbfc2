-- Stage 3b, resolve resubmissions: which accepted records a later one replaced.
--
-- A record counts unless a later accepted record has the same (site code, accession
-- number): a resubmission replaces the earlier record, and a rejected resubmission
-- leaves the earlier accepted one in place (INPUT.md; rejected records never reach
-- derived_records). Files are ranked by input_files.file_order (submission date, then
-- name); within a file a key is never repeated (DIDS071 rejects both records).
--
-- Only keys seen more than once can be superseded, and they are few: they are found by
-- the 64-bit hash of the key kept with each record (one column, the cheap part), then
-- ranked by the key itself, so a hash collision costs a little work, never a wrong
-- answer. Three blocks, run by publish/validate/rules.py and publish/store/record_store.py.
--
-- Stage resolve writes (publish/stage_tables.py reads these lines; the build checks them):
--   repeated_hashes: record key hashes submitted more than once
--     key_hash
--   superseded_records: records replaced by a later submission
--     file_id row_number site_code accession_number key_hash region_code provider_code
--     sub_icb_code modality body_region interventional cancer_test_group
--     source_setting_code test_month days_request_to_test days_test_to_report
--     days_request_to_report age_at_test recency

-- name: repeated_hashes
-- Every file at once.
CREATE OR REPLACE TABLE repeated_hashes AS
SELECT key_hash FROM derived_records GROUP BY key_hash HAVING count(*) > 1;

-- name: repeated_hashes_added
-- Files added to a set resolved before (the record store): the hashes repeated among
-- the earlier files (earlier_repeated_hashes), those of an added file seen in an
-- earlier one, and those seen twice among the added files. The earlier files' records
-- are only probed, one column, against the added ones.
CREATE OR REPLACE TABLE repeated_hashes AS
SELECT key_hash FROM earlier_repeated_hashes
UNION
SELECT key_hash FROM derived_earlier
WHERE key_hash IN (SELECT key_hash FROM derived_added)
UNION
SELECT key_hash FROM derived_added GROUP BY key_hash HAVING count(*) > 1;

-- name: superseded_records
-- The whole derived record of each superseded one, for cube.sql (recency is kept).
CREATE OR REPLACE TABLE superseded_records AS
WITH ranked AS (
    SELECT
        d.*,
        row_number() OVER (
            PARTITION BY d.site_code, d.accession_number
            ORDER BY f.file_order DESC, d.row_number DESC
        ) AS recency
    FROM derived_records AS d
    JOIN input_files AS f ON f.file_id = d.file_id
    WHERE d.key_hash IN (SELECT key_hash FROM repeated_hashes)
)
SELECT * FROM ranked WHERE recency > 1;
