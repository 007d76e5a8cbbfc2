"""One `Policy`, made once from the config: only `publish/disclosure/policy.py` compares policy
names (issue 14). Elsewhere a stage asks the policy (`policy.cell_rules`,
`policy.audit_stops_build`, `policy.suppressed_up_to`, ...), so a new policy is one
entry in `publish.disclosure.policy.make_policy`."""

import ast
from pathlib import Path

import pytest

from publish.config import BuildConfig
from publish.disclosure.policy import POLICY_NAMES, UnknownPolicy, make_policy

PACKAGE = Path(__file__).resolve().parent.parent / "publish"


def name_comparisons(source: str) -> list[int]:
    """Lines of `source` that compare a value with a policy name, test membership in a
    collection of policy names, or key a dictionary by policy name."""

    def is_name(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value in POLICY_NAMES

    def holds_name(node: ast.AST) -> bool:
        return isinstance(node, ast.Tuple | ast.List | ast.Set) and any(map(is_name, node.elts))

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(is_name(o) or holds_name(o) for o in operands):
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict) and any(
            key is not None and is_name(key) for key in node.keys
        ):
            lines.append(node.lineno)
    return lines


def test_the_check_finds_a_comparison_of_policy_names():
    assert name_comparisons('if policy == "strict":\n    pass\n') == [1]
    assert name_comparisons('x = 1\nok = name in ("did", "hes")\n') == [2]
    assert name_comparisons('RULES = {"hes": 7}\n') == [1]
    assert name_comparisons("if policy.audit_stops_build:\n    pass\n") == []


def test_only_the_policy_module_compares_policy_names():
    found = {
        path.relative_to(PACKAGE.parent).as_posix(): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "policy.py" and (lines := name_comparisons(path.read_text()))
    }
    assert found == {}


def test_the_config_makes_the_policy_with_its_k_and_secondary_suppression():
    policy = BuildConfig(policy="strict", k=7, secondary_suppression=False).disclosure_policy()
    assert (policy.name, policy.k, policy.manifest_k) == ("strict", 7, 7)
    assert policy.suppresses_across_tables and not policy.audit_stops_build
    assert policy.protection_upper == 6 and policy.median_records == 7
    hes = BuildConfig(policy="hes", k=7).disclosure_policy()
    assert hes.manifest_k is None and not hes.audit_stops_build
    assert (hes.suppressed_up_to, hes.median_records, hes.rounding_half_width) == (7, 8, 2)


def test_an_unknown_policy_name_is_refused():
    with pytest.raises(UnknownPolicy, match="choose one of"):
        make_policy("lenient")
