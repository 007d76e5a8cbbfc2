"""The layers that cannot be crossed (issue 14), as `import-linter` contracts in
pyproject.toml: renderers never import ingest, validation or the store; validation and
the store never import a renderer; disclosure control never imports a renderer; ingest
never imports disclosure control. Indirect imports count: a chain through any module
breaks a contract as a direct import does."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_layer_contract_is_kept():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 kept, 0 broken" in result.stdout


def test_the_pipeline_never_asks_which_engine_it_has():
    """`publish.engines.engine.Engine`: DuckDB and Spark answer the same two calls."""
    import ast

    tree = ast.parse((ROOT / "publish" / "pipeline.py").read_text())
    asks = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare) and "engine" in ast.unparse(node)
    ]
    assert asks == []
