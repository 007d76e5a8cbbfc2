-- Stage 3b, resolve resubmissions: what counts, as the sum of the files' shares.
--
-- A record counts unless a later accepted record has the same (site code, accession
-- number): a resubmission replaces the earlier record, and a rejected resubmission
-- leaves the earlier accepted one in place (INPUT.md; rejected records never reach
-- derived_records). Files are ranked by input_files.file_order (submission date, then
-- name); within a file a key is never repeated (DIDS071 rejects both records).
--
-- Only keys seen more than once can be superseded, and they are few: they are found by
-- the 64-bit hash of the key kept with each record (the cheap part, one column), then
-- ranked by the key itself, so a hash collision costs a little work, never a wrong answer.
-- (recency is kept: the rows are whole derived records, for cube.sql.)

CREATE OR REPLACE TABLE superseded_records AS
WITH repeated_hashes AS (
    SELECT key_hash FROM derived_records GROUP BY key_hash HAVING count(*) > 1
),
ranked AS (
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
