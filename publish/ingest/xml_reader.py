"""Reading NHS England's XML submission message, `DIDS-v1-0` (INPUT.md section 1).

A `DIDS` root holds `DIDSRecord`s; each has one `PersonalAndDemographics`, one
`Referrals` and one or more `ImagingActivity`, and each activity is one record of the
18-column layout with the patient's and the referral's items repeated into it. A
record's number is its activity's position in the file.

The file is read as a stream (`lxml.etree.iterparse`): each `DIDSRecord` is turned into
records when it ends and then freed, with the elements before it, so a national month
(about 4 GB) is read in the memory of one record and one chunk of rows. Records come out
in chunks of `CHUNK_RECORDS` as polars frames with the columns of `submission_records`.

A file that is not well-formed XML, whose root or namespace is not `DIDS-v1-0`'s, or
that holds an element the message does not have (or one it has, twice) cannot be read
with certainty, and is rejected whole: `MalformedXml` says where (line), and what
(element names, never a value). Because the problem may be found at the very end, the
caller must drop the chunks it has already taken. A missing element is a missing
value, for the record rules to judge, as an empty CSV field is.
"""

from collections.abc import Iterator
from typing import IO

import polars as pl
from lxml import etree

from publish.codes import SUBMISSION_COLUMNS

NAMESPACE = "http://www.datadictionary.nhs.uk/data_dictionary/messages/DIDS-v1-0/"
ROOT = "DIDS"
RECORD = "DIDSRecord"
ACTIVITY = "ImagingActivity"
CHUNK_RECORDS = 100_000

# Group -> {element: (column, attribute or None for the element's text)}.
ITEMS: dict[str, dict[str, tuple[str, str | None]]] = {
    "PersonalAndDemographics": {
        "NHSNumber": ("NHS_NUMBER", "extension"),
        "NHSNumberStatus": ("NHS_NUMBER_STATUS_IND", "code"),
        "PersonBirthDate": ("PERSON_BIRTH_DATE", None),
        "EthnicCategory": ("ETHNIC_CATEGORY", "code"),
        "PersonGenderCode": ("PERSON_GENDER_CODE", "code"),
        "GPCodeRegistration": ("PRACTICE_CODE", "extension"),
    },
    "Referrals": {
        "PatientSourceSetting": ("PATIENT_SOURCE_SETTING", "code"),
        "ReferrerCode": ("REFERRER", "extension"),
        "ReferringOrgCode": ("REFERRING_ORG_CODE", "extension"),
        "DiagnosticTestReqDate": ("DIAGNOSTIC_TEST_REQUEST_DATE", None),
        "DiagnosticTestReqRecDate": ("DIAG_TEST_REQUEST_REC_DATE", None),
    },
    ACTIVITY: {
        "DiagnosticTestDate": ("DIAGNOSTIC_TEST_DATE", None),
        "ImagingCodeNICIP": ("IMAGING_CODE_NICIP", "code"),
        "ImagingCodeSNOMEDCT": ("IMAGING_CODE_SNOMED", "code"),
        "ServiceReportIssueDate": ("SERVICE_REPORT_DATE", None),
        "ImagingSiteCode": ("SITE_CODE_IMAGING", "extension"),
        "RadiologicalAccessionNumber": ("RADIOLOGICAL_ACCESSION_NUM", "extension"),
    },
}
# The one nested item: the postcode, `PersonalAndDemographics/Address/postalCode`.
ADDRESS, POSTCODE = "Address", "postalCode"
PATIENT_GROUPS = ("PersonalAndDemographics", "Referrals")


def qualified(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


ROOT_TAG, RECORD_TAG, ACTIVITY_TAG = qualified(ROOT), qualified(RECORD), qualified(ACTIVITY)
COLUMN_INDEX = {name: index for index, name in enumerate(SUBMISSION_COLUMNS)}
# Group tag -> {item tag: (column index, attribute or None)}.
GROUP_ITEMS = {
    qualified(group): {
        qualified(name): (COLUMN_INDEX[column], attribute)
        for name, (column, attribute) in items.items()
    }
    for group, items in ITEMS.items()
}
ADDRESS_TAG, POSTCODE_TAG = qualified(ADDRESS), qualified(POSTCODE)
PATIENT_TAG = qualified("PersonalAndDemographics")
POSTCODE_INDEX = COLUMN_INDEX["POSTCODE"]
ACTIVITY_INDEXES = [COLUMN_INDEX[column] for column, _ in ITEMS[ACTIVITY].values()]
SHARED_INDEXES = [i for i in range(len(SUBMISSION_COLUMNS)) if i not in ACTIVITY_INDEXES]


class MalformedXml(Exception):
    """The file cannot be read as DIDS-v1-0. The text names a line and elements only."""

    def __init__(self, message: str, activities_seen: int) -> None:
        super().__init__(message)
        self.activities_seen = activities_seen


def local_name(tag: object) -> str:
    """An element's name without its namespace, for messages."""
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def is_element(node: etree._Element) -> bool:
    return isinstance(node.tag, str)  # not a comment or processing instruction


class _Reader:
    def __init__(self, file_id: int) -> None:
        self.file_id = file_id
        self.activities = 0  # activities read (their record numbers)
        self.columns: list[list[str | None]] = [[] for _ in SUBMISSION_COLUMNS]
        self.row_numbers: list[int] = []

    def fail(self, message: str, line: int | None) -> MalformedXml:
        where = f"line {line}: " if line else ""
        return MalformedXml(f"{where}{message}", self.activities)

    def check_root(self, root: etree._Element) -> None:
        if root.tag != ROOT_TAG:
            if local_name(root.tag) == ROOT:
                found = namespace_of(root.tag) or "no namespace"
                raise self.fail(
                    f"root element DIDS is in {found}, not the DIDS-v1-0 namespace {NAMESPACE}",
                    root.sourceline,
                )
            raise self.fail(
                f"root element is {local_name(root.tag)}, not DIDS (DIDS-v1-0)", root.sourceline
            )

    def unknown(self, node: etree._Element, parent: str) -> MalformedXml:
        if not is_element(node):  # an entity reference left unresolved, say
            return self.fail(f"{parent} holds something other than elements", node.sourceline)
        name = local_name(node.tag)
        if namespace_of(node.tag) != NAMESPACE:
            name += f" (namespace {namespace_of(node.tag) or 'none'})"
        return self.fail(f"element {name} is not part of {parent} in DIDS-v1-0", node.sourceline)

    def group_values(
        self, group: etree._Element, items: dict, values: list[str | None], seen: set[int]
    ) -> None:
        """One group's items into `values` (by column index); an item absent stays None.

        The hot loop of XML ingest (about twenty elements a record): one dictionary look-up
        per element, and names for messages only when something is wrong.
        """
        for item in group:  # comments and processing instructions are removed by the parser
            found = items.get(item.tag)
            if found is None:
                if item.tag == ADDRESS_TAG and group.tag == PATIENT_TAG:
                    index, value = POSTCODE_INDEX, self.postcode(item)
                else:
                    raise self.unknown(item, local_name(group.tag))
            else:
                if len(item):
                    raise self.unknown(item[0], local_name(item.tag))
                index, attribute = found
                value = item.text if attribute is None else item.get(attribute)
            if index in seen:
                raise self.fail(
                    f"element {local_name(item.tag)} given twice in {local_name(group.tag)}",
                    item.sourceline,
                )
            seen.add(index)
            if value:
                values[index] = value

    def postcode(self, address: etree._Element) -> str | None:
        value = None
        for position, child in enumerate(address):
            if child.tag != POSTCODE_TAG:
                raise self.unknown(child, ADDRESS)
            if position:
                raise self.fail(f"element {POSTCODE} given twice in {ADDRESS}", child.sourceline)
            if len(child):
                raise self.unknown(child[0], POSTCODE)
            value = child.text
        return value

    def record(self, record: etree._Element) -> None:
        """The activities of one DIDSRecord, with its patient and referral items."""
        shared: list[str | None] = [None] * len(SUBMISSION_COLUMNS)
        shared_seen: set[int] = set()
        groups_seen: set[str] = set()
        activities: list[list[str | None]] = []
        for group in record:
            tag = group.tag
            items = GROUP_ITEMS.get(tag)
            if items is None:
                raise self.unknown(group, RECORD)
            if tag == ACTIVITY_TAG:
                activity: list[str | None] = [None] * len(SUBMISSION_COLUMNS)
                self.group_values(group, items, activity, set())
                activities.append(activity)
                continue
            if tag in groups_seen:
                raise self.fail(
                    f"element {local_name(tag)} given twice in {RECORD}", group.sourceline
                )
            groups_seen.add(tag)
            self.group_values(group, items, shared, shared_seen)
        columns = self.columns
        for activity in activities:
            self.activities += 1
            self.row_numbers.append(self.activities)
            for index in SHARED_INDEXES:
                columns[index].append(shared[index])
            for index in ACTIVITY_INDEXES:
                columns[index].append(activity[index])

    def chunk(self) -> pl.DataFrame:
        frame = pl.DataFrame(
            [
                pl.Series("file_id", [self.file_id] * len(self.row_numbers), pl.Int32),
                pl.Series("row_number", self.row_numbers, pl.Int64),
                *[
                    pl.Series(name, values, pl.Utf8)
                    for name, values in zip(SUBMISSION_COLUMNS, self.columns, strict=True)
                ],
            ]
        )
        self.columns = [[] for _ in SUBMISSION_COLUMNS]
        self.row_numbers = []
        return frame


def read_xml_records(stream: IO[bytes] | str, file_id: int) -> Iterator[pl.DataFrame]:
    """The records of a DIDS-v1-0 file (a stream, or a file's path) in chunks;
    `MalformedXml` if it cannot be read.

    Entities are not resolved and nothing is fetched from the network: a submission is
    data, never instructions to the parser.
    """
    reader = _Reader(file_id)
    # Only the end of each DIDSRecord comes back to Python (lxml filters the rest in C):
    # about one event per record rather than forty.
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=RECORD_TAG,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    root: etree._Element | None = None
    try:
        for _, element in events:
            parent = element.getparent()
            if root is None:
                root = element.getroottree().getroot()
                reader.check_root(root)
            if parent is not root:
                raise reader.unknown(parent, local_name(parent.getparent().tag))
            reader.record(element)
            element.clear()
            while (earlier := element.getprevious()) is not None:  # free what has been read
                if earlier.tag != RECORD_TAG:
                    raise reader.unknown(earlier, ROOT)
                del root[0]
            if len(reader.row_numbers) >= CHUNK_RECORDS:
                yield reader.chunk()
        root = events.root
    except etree.XMLSyntaxError as error:
        # libxml2's text can quote the document: only its position is passed on.
        line = error.position[0] if error.position else error.lineno
        raise reader.fail("not well-formed XML (the file is damaged or incomplete)", line) from None
    reader.check_root(root)
    for element in root:  # after the last record, or in a file with none
        if element.tag != RECORD_TAG:
            raise reader.unknown(element, ROOT)
    if reader.row_numbers:
        yield reader.chunk()
