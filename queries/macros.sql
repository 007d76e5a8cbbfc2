-- Small pure functions the queries share: the validation rules, and the roll-up of every
-- table to its geography levels.

-- The blanks a value is trimmed of (INPUT.md: values are trimmed): spaces, tabs,
-- no-break spaces (U+00A0, what a spreadsheet pads with) and line ends, all alike.
CREATE OR REPLACE MACRO blank_characters() AS (
    ' ' || chr(9) || chr(160) || chr(13) || chr(10)
);

-- A value without the blanks around it.
CREATE OR REPLACE MACRO trim_blank(value) AS (
    trim(value, blank_characters())
);

-- Whether any field of a record begins or ends with such a blank, given the record's
-- fields joined by the unit separator chr(31): one search of the record instead of a
-- trim of each field. Trimming with a set of characters is the dearest step of
-- validation (about two thirds of it on a national month), and almost no record needs
-- it. A field that itself holds chr(31) can only make this true, never hide a blank.
CREATE OR REPLACE MACRO edge_blank_in(joined_fields) AS (
    regexp_matches(
        joined_fields,
        '(^|\x1f)[' || blank_characters() || ']|[' || blank_characters() || '](\x1f|$)'
    )
);

-- A field as validation reads it: trimmed (only where its record has a blank at the
-- edge of some field, `edge_blank_in`), and NULL when nothing is left.
CREATE OR REPLACE MACRO received_value(value, record_has_edge_blank) AS (
    nullif(CASE WHEN record_has_edge_blank THEN trim_blank(value) ELSE value END, '')
);

-- A CCYY-MM-DD date, or NULL when the text is not one (INPUT.md: dates are CCYY-MM-DD;
-- "2018-7-1", "01/07/2018" and "2018-02-30" are all invalid).
CREATE OR REPLACE MACRO parse_submission_date(date_text) AS (
    CASE WHEN regexp_full_match(date_text, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
         THEN TRY_CAST(date_text AS DATE) END
);

-- Modulus 11 check of a 10-digit NHS number (DIDS001): weights 10..2 on the first nine
-- digits; the check digit is 11 minus the remainder, 11 meaning 0 and 10 never valid.
-- (substr rather than nhs_number[i]: the same text runs on Spark, docs/spark.md.)
CREATE OR REPLACE MACRO nhs_number_check_digit_ok(nhs_number) AS (
    (11 - (
        TRY_CAST(substr(nhs_number, 1, 1) AS INTEGER) * 10
        + TRY_CAST(substr(nhs_number, 2, 1) AS INTEGER) * 9
        + TRY_CAST(substr(nhs_number, 3, 1) AS INTEGER) * 8
        + TRY_CAST(substr(nhs_number, 4, 1) AS INTEGER) * 7
        + TRY_CAST(substr(nhs_number, 5, 1) AS INTEGER) * 6
        + TRY_CAST(substr(nhs_number, 6, 1) AS INTEGER) * 5
        + TRY_CAST(substr(nhs_number, 7, 1) AS INTEGER) * 4
        + TRY_CAST(substr(nhs_number, 8, 1) AS INTEGER) * 3
        + TRY_CAST(substr(nhs_number, 9, 1) AS INTEGER) * 2
    ) % 11) % 11 = TRY_CAST(substr(nhs_number, 10, 1) AS INTEGER)
);

-- The three geography levels of every table, in one roll-up: a query grouped
-- `GROUP BY <its keys>, ROLLUP (region_code, provider_code)` makes each provider's row,
-- each region's and England's in one pass, and these two name them. `grouping(x)` is 1
-- where x is rolled up: both rolled up is England, the provider alone a region.
CREATE OR REPLACE MACRO geography_level(region_rolled_up, provider_rolled_up) AS (
    CASE WHEN region_rolled_up = 1 THEN 'england'
         WHEN provider_rolled_up = 1 THEN 'region'
         ELSE 'provider' END
);

-- A region or provider code at its level: '' where the roll-up went above it.
CREATE OR REPLACE MACRO geography_code(code, rolled_up) AS (
    CASE WHEN rolled_up = 1 THEN '' ELSE code END
);
