"""Checks a transform spec before it is stored, and the digests that identify its code."""

from __future__ import annotations

import ast
import hashlib
from typing import Any

import orjson

from shipyard.errors import InvalidInput
from shipyard.names import check_name, parse_reference
from shipyard.schemas.transforms import TransformSpec

MAX_SOURCE_BYTES = 1024 * 1024


def canonical_digest(value: Any) -> str:
    """The SHA-256 of a value's canonical JSON (sorted keys)."""
    return "sha256:" + hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def output_dataset(name: str, spec: TransformSpec) -> str:
    return spec.output.dataset or name


def check_spec(name: str, spec: TransformSpec, source: str | None) -> None:
    """Raise InvalidInput naming the field for anything that would make every run fail."""
    inputs = {}
    for alias, ref in spec.inputs.items():
        parsed = parse_reference(ref, field=f"inputs.{alias}")
        if parsed.alias is not None:
            raise InvalidInput(
                f"datasets have versions, not aliases: use {parsed.name} or {parsed.name}@N",
                field=f"inputs.{alias}",
            )
        inputs[alias] = parsed.name
    output = check_name(output_dataset(name, spec), field="output.dataset")
    if output in inputs.values():
        raise InvalidInput(
            f"the output dataset {output!r} is also an input; a transform cannot feed itself",
            field="output.dataset",
        )
    partition_by = [c.strip() for c in spec.output.partition_by]
    if any(not c for c in partition_by) or len(set(partition_by)) != len(partition_by):
        raise InvalidInput(
            "column names must be non-empty and distinct", field="output.partition_by"
        )
    if spec.sql is not None:
        if source is not None:
            raise InvalidInput("a SQL transform takes no Python source", field="source")
        check_sql(spec.sql)
    else:
        check_python(spec, source)


def check_sql(sql: str) -> None:
    """The SQL must parse (DuckDB dialect) as exactly one SELECT statement."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as error:
        raise InvalidInput(f"SQL error: {error}", field="sql") from None
    finally:
        connection.close()
    if len(statements) != 1:
        raise InvalidInput(
            f"expected one SELECT statement, found {len(statements)} statements", field="sql"
        )
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name
        raise InvalidInput(
            f"expected a SELECT statement, found {kind}; a transform only reads its inputs",
            field="sql",
        )


def check_python(spec: TransformSpec, source: str | None) -> None:
    """The source must parse and define the entrypoint's function at top level; nothing runs."""
    assert spec.python is not None
    if source is None or not source.strip():
        raise InvalidInput("a Python transform needs its source file's text", field="source")
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise InvalidInput(f"source is larger than {MAX_SOURCE_BYTES} bytes", field="source")
    filename = spec.python.file or f"{spec.python.module}.py"
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as error:
        raise InvalidInput(f"{filename} line {error.lineno}: {error.msg}", field="source") from None
    defined = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    if spec.python.function not in defined:
        raise InvalidInput(
            f"{filename} defines no top-level function {spec.python.function!r}",
            field="python.entrypoint",
        )


def code_digest(spec: TransformSpec, source_digest: str | None) -> str:
    """What the result depends on besides the inputs: the SQL, or the source and function."""
    if spec.sql is not None:
        return canonical_digest({"kind": "sql", "sql": spec.sql})
    assert spec.python is not None
    return canonical_digest(
        {"kind": "python", "source": source_digest, "entrypoint": spec.python.entrypoint}
    )


def spec_digest(spec: TransformSpec, source_digest: str | None) -> str:
    return canonical_digest(
        {
            "spec": spec.model_dump(mode="json", exclude={"python": {"file"}}),
            "source": source_digest,
        }
    )
