-- The rules that rejected records, and how many records broke each (a record can break
-- several), most first: the closing line of `build` and `validate` names the top ones.
-- Counts only, for the producer's console; files rejected whole and malformed records
-- (DIDS075) are added in Python from what ingest counted.
SELECT code, CAST(sum(n) AS BIGINT) AS records
FROM (SELECT n, unnest(rejection_codes) AS code
      FROM record_outcomes
      WHERE len(rejection_codes) > 0)
GROUP BY code
ORDER BY records DESC, code;
