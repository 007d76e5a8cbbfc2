"""The table catalog (`publish/tables.py`): each published table declared once, and its
number spelled only there and in the SQL (issue 14). Adding a table is one `TableSpec`
plus its block in `queries/aggregate/table_sources.sql`."""

import ast
from pathlib import Path

from publish.resources import query_block
from publish.tables import MEASURES, TABLES, MedianSource

PACKAGE = Path(__file__).resolve().parent.parent / "publish"
TABLE_NUMBERS = set(range(1, 14))


def spelled_table_numbers(source: str) -> list[int]:
    """Lines that compare a table (or a table number) with a number, test it against a
    list of numbers, or call `table(N)`."""

    def is_number(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Constant)
            and type(node.value) is int
            and node.value in TABLE_NUMBERS
        )

    def about_tables(node: ast.AST) -> bool:
        text = ast.unparse(node)
        return "table" in text or text.endswith(".number")

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            listed = [e for o in operands if isinstance(o, ast.List | ast.Tuple) for e in o.elts]
            numbers = any(map(is_number, [*operands, *listed]))
            if numbers and any(map(about_tables, operands)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            listed = [e for a in node.args if isinstance(a, ast.List | ast.Tuple) for e in a.elts]
            if (
                name.endswith("is_in") and about_tables(node.func) and any(map(is_number, listed))
            ) or (name == "table" and any(map(is_number, node.args))):
                lines.append(node.lineno)
    return lines


def test_the_check_finds_a_spelled_table_number():
    assert spelled_table_numbers('x = pl.col("table") == 11\n') == [1]
    assert spelled_table_numbers('y = 0\nz = pl.col("table").is_in([9, 10])\n') == [2]
    assert spelled_table_numbers("t4 = table(4)\n") == [1]
    assert spelled_table_numbers('x = pl.col("table") == SETTINGS_TABLE\n') == []
    assert spelled_table_numbers("if spec.number in (9, 10):\n    pass\n") == [1]
    assert spelled_table_numbers("if month == 12 or len(number) != 2:\n    pass\n") == []


def test_table_numbers_are_spelled_only_in_the_catalog():
    found = {
        path.relative_to(PACKAGE.parent).as_posix(): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "tables.py" and (lines := spelled_table_numbers(path.read_text()))
    }
    assert found == {}


def test_every_table_has_its_query_and_labelled_measures():
    for spec in TABLES.values():
        assert (
            query_block("aggregate/table_sources", spec.query)
            .upper()
            .startswith(("SELECT", "WITH"))
        )
        assert set(spec.measures) <= set(MEASURES), spec.number
        if isinstance(spec.source, MedianSource):
            assert not isinstance(TABLES[spec.source.count_table].source, MedianSource)
