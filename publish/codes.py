"""Code lists and published labels, verbatim from the input and publication contracts.

Everything a reader sees as a label (modality names, source-setting short labels,
region names) is spelled here once, so that tables, workbook and HTML agree.
"""

SUBMISSION_COLUMNS: tuple[str, ...] = (
    "NHS_NUMBER",
    "NHS_NUMBER_STATUS_IND",
    "PERSON_BIRTH_DATE",
    "ETHNIC_CATEGORY",
    "PERSON_GENDER_CODE",
    "POSTCODE",
    "PRACTICE_CODE",
    "PATIENT_SOURCE_SETTING",
    "REFERRER",
    "REFERRING_ORG_CODE",
    "DIAGNOSTIC_TEST_REQUEST_DATE",
    "DIAG_TEST_REQUEST_REC_DATE",
    "DIAGNOSTIC_TEST_DATE",
    "IMAGING_CODE_NICIP",
    "IMAGING_CODE_SNOMED",
    "SERVICE_REPORT_DATE",
    "SITE_CODE_IMAGING",
    "RADIOLOGICAL_ACCESSION_NUM",
)

# Patient-level items (INPUT.md: M* items and the accession number). They may live in
# the restricted folder and nowhere else: never in a publication, a log or a message.
PATIENT_LEVEL_COLUMNS: tuple[str, ...] = (
    "NHS_NUMBER",
    "PERSON_BIRTH_DATE",
    "POSTCODE",
    "PRACTICE_CODE",
    "RADIOLOGICAL_ACCESSION_NUM",
)

MODALITIES: tuple[str, ...] = (
    "Computerized Axial Tomography",
    "Diagnostic Ultrasonography",
    "Fluoroscopy",
    "Magnetic Resonance Imaging",
    "Medical Photography",
    "Nuclear Medicine Procedure",
    "Plain Radiography",
    "Positron Emission Tomography",
    "Single Photon Emission Computerized Tomography",
)

CANCER_TEST_GROUPS: tuple[str, ...] = (
    "Abdomen and/or pelvis (Ultrasound)",
    "Brain (MRI)",
    "Chest (X-ray)",
    "Chest and/or abdomen (CT)",
    "Kidney or Bladder (Ultrasound)",
)

# PATIENT SOURCE SETTING TYPE (DIAGNOSTIC IMAGING) code -> published short label.
SOURCE_SETTINGS: dict[str, str] = {
    "01": "Inpatient",
    "02": "Day case",
    "03": "Outpatient",
    "04": "GP Direct Access",
    "05": "A&E",
    "06": "Other Health Care Provider",
    "07": "Other",
}

# Column order of table 11 in NHS England's publication; "All" is its Total column.
TABLE11_SOURCE_SETTINGS: tuple[str, ...] = (
    "A&E",
    "Day case",
    "Inpatient",
    "Outpatient",
    "GP Direct Access",
    "Other Health Care Provider",
    "Other",
    "All",
)

ALL_SETTINGS = "All"

REGIONS: dict[str, str] = {
    "Y56": "London Commissioning Region",
    "Y58": "South West Commissioning Region",
    "Y59": "South East Commissioning Region",
    "Y60": "Midlands Commissioning Region",
    "Y61": "East of England Commissioning Region",
    "Y62": "North West Commissioning Region",
    "Y63": "North East and Yorkshire Commissioning Region",
}

GENDER_CODES = ("0", "1", "2", "9")
ETHNIC_CATEGORIES = tuple("ABCDEFGHJKLMNPRSZ") + ("99",)
NHS_NUMBER_STATUS_CODES = ("01", "02", "03", "04", "05", "06", "07", "08")

# The DIDS rules that only warn (queries/validate/validate.sql, `warning_codes`): a record breaking
# one of these alone is accepted. Every other rule rejects the record.
WARNING_RULE_CODES: frozenset[str] = frozenset(
    {"DIDS023", "DIDS028", "DIDS038", "DIDS049", "DIDS062"}
)
