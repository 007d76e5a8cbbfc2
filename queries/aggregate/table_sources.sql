-- What each table counts: one named block per table, defining the view that
-- count_cells.sql (table_counts) or median_cells.sql (table_waits) reads. Row labels are
-- the published modality names, or the cancer test groups for tables 4-6.

-- Tables 7a, 7b and 8 (by commissioner, commissioner_cells.sql) take the year to date's
-- records in the day bands of one wait, for four modalities or three cancer tests; table
-- 13's broad settings (publish.tables.TABLE13_SETTING_GROUPS) are A&E, inpatient and day
-- case, and outpatient, GP direct access, other health care provider and other. (A
-- comment between blocks would end the block before it: comments go here.)

-- name: table_1_counts
SELECT modality AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, n
FROM activity_cube;

-- name: table_2_waits
SELECT modality AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, days, n
FROM wait_histogram WHERE wait = 'request_to_test';

-- name: table_3_waits
SELECT modality AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, days, n
FROM wait_histogram WHERE wait = 'test_to_report';

-- name: table_4_counts
SELECT cancer_test_group AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, n
FROM activity_cube WHERE cancer_test_group IS NOT NULL
UNION ALL
SELECT cancer_test_group, 'GP Direct Access', region_code, provider_code, test_month, n
FROM activity_cube WHERE cancer_test_group IS NOT NULL AND source_setting_code = '04';

-- name: table_5_waits
SELECT cancer_test_group AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, days, n
FROM wait_histogram WHERE wait = 'request_to_test' AND cancer_test_group IS NOT NULL
UNION ALL
SELECT cancer_test_group, 'GP Direct Access', region_code, provider_code, test_month, days, n
FROM wait_histogram
WHERE wait = 'request_to_test' AND cancer_test_group IS NOT NULL AND gp_direct_access;

-- name: table_6_waits
SELECT cancer_test_group AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, days, n
FROM wait_histogram WHERE wait = 'test_to_report' AND cancer_test_group IS NOT NULL
UNION ALL
SELECT cancer_test_group, 'GP Direct Access', region_code, provider_code, test_month, days, n
FROM wait_histogram
WHERE wait = 'test_to_report' AND cancer_test_group IS NOT NULL AND gp_direct_access;

-- name: table_11_counts
SELECT modality AS row_label, s.label AS source_setting, region_code, provider_code,
       test_month, n
FROM activity_cube JOIN source_setting_labels AS s ON s.code = source_setting_code
UNION ALL
SELECT modality, 'All', region_code, provider_code, test_month, n
FROM activity_cube;

-- name: table_12_counts
SELECT modality AS row_label, 'All' AS source_setting, region_code, provider_code,
       test_month, n
FROM activity_cube WHERE interventional;

-- name: table_9_counts
SELECT modality AS row_label, s.label AS source_setting, region_code, provider_code,
       test_month, measure, measure_n AS n
FROM activity_cube
JOIN source_setting_labels AS s ON s.code = source_setting_code
CROSS JOIN LATERAL (VALUES
    ('count_days_0_to_7', n_days_0_to_7), ('count_days_8_to_31', n_days_8_to_31),
    ('count_days_32_to_62', n_days_32_to_62), ('count_days_over_62', n_days_over_62),
    ('count_request_to_test_known', n_request_to_test_known)
) AS m(measure, measure_n)
UNION ALL
SELECT modality, 'All', region_code, provider_code, test_month, measure, measure_n
FROM activity_cube
CROSS JOIN LATERAL (VALUES
    ('count_days_0_to_7', n_days_0_to_7), ('count_days_8_to_31', n_days_8_to_31),
    ('count_days_32_to_62', n_days_32_to_62), ('count_days_over_62', n_days_over_62),
    ('count_request_to_test_known', n_request_to_test_known)
) AS m(measure, measure_n);

-- name: table_10_counts
SELECT modality AS row_label, g.label AS source_setting, region_code, provider_code,
       test_month, measure, measure_n AS n
FROM activity_cube
JOIN setting_groups AS g ON g.code = source_setting_code
CROSS JOIN LATERAL (VALUES
    ('count_reported_same_day', n_reported_same_day),
    ('count_reported_by_next_day', n_reported_by_next_day),
    ('count_report_time_known', n_report_time_known),
    ('count_report_time_not_known', activity_cube.n - n_report_time_known),
    ('activity_count', activity_cube.n)
) AS m(measure, measure_n);

-- name: table_7a_counts
SELECT modality AS row_label, 'All' AS source_setting, region_code, commissioner_code,
       measure, n
FROM commissioner_cube
WHERE wait = 'request_to_test'
  AND modality IN ('Computerized Axial Tomography', 'Diagnostic Ultrasonography',
                   'Magnetic Resonance Imaging', 'Plain Radiography');

-- name: table_7b_counts
SELECT modality AS row_label, 'All' AS source_setting, region_code, commissioner_code,
       measure, n
FROM commissioner_cube
WHERE wait = 'test_to_report'
  AND modality IN ('Computerized Axial Tomography', 'Diagnostic Ultrasonography',
                   'Magnetic Resonance Imaging', 'Plain Radiography');

-- name: table_8_counts
SELECT cancer_test_group AS row_label, 'All' AS source_setting, region_code,
       commissioner_code, measure, n
FROM commissioner_cube
WHERE wait = 'request_to_test'
  AND cancer_test_group IN ('Chest (X-ray)', 'Brain (MRI)',
                            'Abdomen and/or pelvis (Ultrasound)')
UNION ALL
SELECT cancer_test_group, 'GP Direct Access', region_code, commissioner_code, measure, n
FROM commissioner_cube
WHERE wait = 'request_to_test' AND gp_direct_access
  AND cancer_test_group IN ('Chest (X-ray)', 'Brain (MRI)',
                            'Abdomen and/or pelvis (Ultrasound)');

-- name: table_13_counts
SELECT modality AS row_label,
       CASE WHEN source_setting_code IN ('05', '01', '02') THEN 'A&E / Admitted'
            ELSE 'OP / GP direct access' END AS source_setting,
       region_code, provider_code, test_month, measure, measure_n AS n
FROM activity_cube
CROSS JOIN LATERAL (VALUES
    ('count_reported_same_day', n_reported_same_day),
    ('count_reported_by_next_day', n_reported_by_next_day),
    ('count_reported_by_7_days', n_reported_by_7_days),
    ('count_reported_by_14_days', n_reported_by_14_days),
    ('count_reported_over_28_days', n_reported_over_28_days),
    ('count_report_time_not_known', activity_cube.n - n_report_time_known),
    ('count_report_time_known', n_report_time_known),
    ('activity_count', activity_cube.n)
) AS m(measure, measure_n);
