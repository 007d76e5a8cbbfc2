-- Stage 3b, resolve resubmissions: the accepted records that count.
--
-- A record counts unless a later accepted record has the same (site code, accession
-- number): a resubmission replaces the earlier record, and a rejected resubmission
-- leaves the earlier accepted one in place (INPUT.md; rejected records never reach
-- derived_records). Files are ranked by input_files.file_order (submission date, then
-- name); within a file a key is never repeated (DIDS071 rejects both records).
--
-- Only keys seen more than once can be superseded, and they are few: they are found by
-- a 64-bit hash of the key, the cheap part, then ranked by the key itself, so a hash
-- collision costs a little work and never a wrong answer.

CREATE OR REPLACE TABLE superseded_records AS
WITH repeated_hashes AS (
    SELECT hash(site_code, accession_number) AS key_hash
    FROM derived_records
    GROUP BY hash(site_code, accession_number)
    HAVING count(*) > 1
),
ranked AS (
    SELECT
        d.file_id,
        d.row_number,
        row_number() OVER (
            PARTITION BY d.site_code, d.accession_number
            ORDER BY f.file_order DESC, d.row_number DESC
        ) AS recency
    FROM derived_records AS d
    JOIN input_files AS f ON f.file_id = d.file_id
    WHERE hash(d.site_code, d.accession_number) IN (SELECT key_hash FROM repeated_hashes)
)
SELECT file_id, row_number FROM ranked WHERE recency > 1;

CREATE OR REPLACE VIEW activity_records AS
SELECT d.*
FROM derived_records AS d
WHERE NOT EXISTS (
    SELECT 1 FROM superseded_records AS s
    WHERE s.file_id = d.file_id AND s.row_number = d.row_number
);
