"""DuckDB SQL -> Spark SQL at run time: sqlglot, plus the few rewrites it cannot do.

The project's SQL is written once, in DuckDB's dialect (`queries/*.sql` and the short
statements in the stage modules). For the Spark engine each statement is parsed by
sqlglot and generated for Spark, which covers almost everything (QUALIFY becomes a
subquery, `list_filter(..., lambda x: ...)` becomes `filter(array(...), x -> ...)`,
`strftime` becomes `date_format`, `//` becomes `DIV`, `INTERVAL 6 MONTH` date
arithmetic, NULL ordering, quoting). The rest is done here, on the syntax tree:

- macros: `CREATE MACRO f(a) AS (...)` (queries/macros.sql) is remembered, and every
  call `f(x)` is replaced by the macro's body with `x` for `a` (Spark has no macros);
- `regexp_full_match(s, p)` -> `s RLIKE '^(?:p)\\z'` (Java's `$` would also match
  before a final line break, `\\z` only at the very end, as RE2's full match);
- `CROSS JOIN LATERAL (VALUES (...), ...) AS m(k, v)`, an unpivot of the row's own
  columns (Spark's VALUES cannot read them) -> `LATERAL VIEW INLINE(ARRAY(STRUCT(...)))`;
- `len(list)` -> `size(list)`: in this project's SQL `len` is for lists and
  `length` for text (sqlglot reads both as LENGTH, which Spark has for text only);
- parameters (`?`, `$name`) are bound as literals.

Anything else that does not translate is written in a form both engines run, in the
one .sql file (see docs/spark.md). `python -m publish.engines.sql derive/derive` prints
the Spark SQL of `queries/derive/derive.sql`.
"""

import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import ErrorLevel, exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.helper import seq_get

FULL_MATCH_END = "\\z"  # Java regex: end of input (not before a final line terminator)


class ProjectDuckDB(DuckDB):
    """DuckDB as this project writes it: `len()` is the length of a list."""

    class Parser(DuckDB.parser_class):  # type: ignore[name-defined, misc]
        FUNCTIONS = {
            **DuckDB.parser_class.FUNCTIONS,
            "LEN": lambda args: exp.ArraySize(this=seq_get(args, 0)),
        }


class TranslationError(Exception):
    """A statement the Spark engine cannot run (a DuckDB feature with no translation)."""


def literal(value: Any) -> exp.Expression:
    """A Python parameter value as a SQL literal."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, str | Path):
        return exp.Literal.string(str(value))
    raise TranslationError(f"cannot pass a {type(value).__name__} as a SQL parameter")


def bind_parameters(
    statements: list[exp.Expression], params: Sequence[Any] | Mapping[str, Any] | None
) -> list[exp.Expression]:
    """Replace `?` (a sequence of values) or `$name` (a mapping) by literals."""
    if params is None:
        return statements
    positional = iter(params) if not isinstance(params, Mapping) else None

    def bind(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Placeholder):
            return node
        if isinstance(params, Mapping):
            if node.name not in params:
                raise TranslationError(f"no value given for parameter ${node.name}")
            return literal(params[node.name])
        try:
            return literal(next(positional))  # type: ignore[arg-type]
        except StopIteration:
            raise TranslationError("fewer parameter values than ? in the statement") from None

    return [statement.transform(bind) for statement in statements]


def constant_text(node: exp.Expression) -> str | None:
    """The value of a string literal or a `||` of string literals, else None."""
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.DPipe | exp.Concat):
        parts = [constant_text(part) for part in node.iter_expressions()]
        if all(part is not None for part in parts):
            return "".join(parts)  # type: ignore[arg-type]
    if isinstance(node, exp.Paren):
        return constant_text(node.this)
    return None


def full_match_as_rlike(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.RegexpFullMatch):
        return node
    pattern = constant_text(node.expression)
    if pattern is not None:
        anchored: exp.Expression = exp.Literal.string(f"^(?:{pattern}){FULL_MATCH_END}")
    else:
        anchored = exp.Concat(
            expressions=[
                exp.Literal.string("^(?:"),
                node.expression,
                exp.Literal.string(f"){FULL_MATCH_END}"),
            ]
        )
    return exp.RegexpLike(this=node.this, expression=anchored)


def lateral_values_as_lateral_view(node: exp.Expression) -> exp.Expression:
    """`CROSS JOIN LATERAL (VALUES (a, x), (b, y)) AS m(k, v)` (an unpivot that reads the
    row's columns) -> Spark's `LATERAL VIEW INLINE(ARRAY(STRUCT(a AS k, x AS v), ...)) m
    AS k, v`, which Spark puts after the joins: so only trailing lateral joins move."""
    if not isinstance(node, exp.Select):
        return node
    joins = list(node.args.get("joins") or [])

    def is_lateral_values(join: exp.Join) -> bool:
        lateral = join.this
        return (
            isinstance(lateral, exp.Lateral)
            and isinstance(lateral.this, exp.Subquery)
            and isinstance(lateral.this.this, exp.Values)
            and join.args.get("kind", "").upper() in ("", "CROSS")
            and not join.args.get("on")
        )

    views: list[exp.Lateral] = []
    while joins and is_lateral_values(joins[-1]):
        lateral = joins.pop().this
        alias = lateral.args["alias"]
        names = [column.name for column in alias.columns]
        structs = [
            exp.Struct(
                expressions=[
                    exp.PropertyEQ(this=exp.to_identifier(name), expression=value)
                    for name, value in zip(names, row.expressions, strict=True)
                ]
            )
            for row in lateral.this.this.expressions
        ]
        views.insert(
            0,
            exp.Lateral(
                this=exp.Inline(this=exp.Array(expressions=structs)), view=True, alias=alias
            ),
        )
    if any(is_lateral_values(join) for join in joins):
        raise TranslationError("a LATERAL (VALUES ...) join must come after the other joins")
    if views:
        node.set("joins", joins or None)
        node.set("laterals", [*(node.args.get("laterals") or []), *views])
    return node


class Translator:
    """Parses DuckDB statements; remembers macros; writes each statement as Spark SQL."""

    def __init__(self) -> None:
        self.macros: dict[str, tuple[list[str], exp.Expression]] = {}

    def parse(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[exp.Expression]:
        try:
            statements = [s for s in sqlglot.parse(sql, read=ProjectDuckDB) if s is not None]
        except sqlglot.errors.ParseError as error:
            raise TranslationError(f"cannot parse the statement for Spark: {error}") from None
        return bind_parameters(statements, params)

    def add_macro(self, create: exp.Create) -> None:
        """Remember `CREATE [OR REPLACE] MACRO name(params) AS (body)`."""
        signature = create.this
        name = signature.this.name.lower()
        params = [param.name.lower() for param in signature.expressions]
        self.macros[name] = (params, create.expression)

    def inline_macros(self, tree: exp.Expression, depth: int = 0) -> exp.Expression:
        if depth > 20:
            raise TranslationError("macros call each other too deeply (a cycle?)")

        def expand(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Anonymous) or node.name.lower() not in self.macros:
                return node
            params, body = self.macros[node.name.lower()]
            args = list(node.expressions)
            if len(args) != len(params):
                raise TranslationError(
                    f"macro {node.name} takes {len(params)} argument(s), {len(args)} given"
                )
            values = dict(zip(params, args, strict=True))

            def substitute(inner: exp.Expression) -> exp.Expression:
                if (
                    isinstance(inner, exp.Column)
                    and not inner.table
                    and inner.name.lower() in values
                ):
                    return exp.Paren(this=values[inner.name.lower()].copy())
                return inner

            return self.inline_macros(body.copy().transform(substitute), depth + 1)

        return tree.transform(expand)

    def to_spark(self, tree: exp.Expression, pretty: bool = False) -> str:
        """One parsed DuckDB statement (or query) as Spark SQL."""
        rewritten = (
            self.inline_macros(tree)
            .transform(full_match_as_rlike)
            .transform(lateral_values_as_lateral_view)
        )
        try:
            return rewritten.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE, pretty=pretty)
        except sqlglot.errors.UnsupportedError as error:
            raise TranslationError(f"no Spark translation: {error}") from None

    def translate(self, sql: str, params: Any = None, pretty: bool = False) -> list[str]:
        """Every statement of `sql` as Spark SQL (macro definitions are remembered)."""
        translated = []
        for statement in self.parse(sql, params):
            if isinstance(statement, exp.Create) and statement.kind == "MACRO":
                self.add_macro(statement)
            else:
                translated.append(self.to_spark(statement, pretty))
        return translated


def main(names: list[str]) -> None:  # pragma: no cover - a developer's aid
    from publish.resources import query

    translator = Translator()
    translator.translate(query("macros"))
    for name in names:
        for statement in translator.translate(query(name), pretty=True):
            print(f"{statement};")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
