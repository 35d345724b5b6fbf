"""Bad pipeline definitions are refused naming the field, with nothing stored; a Python
pipeline builds the same document a YAML file holds."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.pipelines.conftest import spec

from shipyard import pipelines
from shipyard.errors import InvalidInput
from shipyard.pipelines import Pipeline
from shipyard.security import RequestContext
from shipyard.store.metadata import pipeline_tables as pt


def _steps(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"name": "bad", "steps": list(steps)}


BAD = [
    (_steps({"name": "a", "kind": "teleport"}), "steps.a.kind"),
    (
        _steps(
            {"name": "a", "kind": "condition", "with": {"if": True}, "after": ["b"]},
            {"name": "b", "kind": "condition", "with": {"if": True}, "after": ["a"]},
        ),
        "steps.a.after",
    ),
    (
        _steps({"name": "a", "kind": "condition", "with": {"if": "${steps.z.result}"}}),
        "steps.a.with",
    ),
    (_steps({"name": "a", "kind": "condition", "with": {"if": "${params.nope}"}}), "steps.a.with"),
    (
        _steps(
            {"name": "a", "kind": "condition", "with": {"if": True}},
            {"name": "b", "kind": "condition", "with": {"if": "${steps.a.model}"}},
        ),
        "steps.b.with",
    ),
    (_steps({"name": "a", "kind": "register", "with": {"run": "r"}}), "steps.a.with.model"),
]


@pytest.mark.parametrize(("document", "field"), BAD)
def test_bad_specs_are_refused_naming_the_field(
    admin: RequestContext, document: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        pipelines.create_pipeline(admin, document)
    assert refused.value.field == field
    with admin.platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(pt.Pipeline)) == 0


def fit(context: Any) -> None:
    context.run.log_metric("rows", float(len(context.frame())))


def test_a_python_pipeline_is_the_yaml_document(admin: RequestContext) -> None:
    pipeline = Pipeline("py", parameters={"n": 3})
    pipeline.add("ingest", "ingest", dataset="bc", file="bc.csv")
    pipeline.step(dataset="${steps.ingest.dataset}", experiment="py")(fit)
    document = pipeline.spec()
    assert document["steps"][1] == {
        "name": "fit",
        "kind": "code",
        "with": {
            "entrypoint": "test_specs.py:fit",
            "dataset": "${steps.ingest.dataset}",
            "experiment": "py",
        },
    }
    assert "def fit(context" in pipeline.files()["test_specs.py"]
    files = pipeline.files() | {"bc.csv": "a,b\n1,2\n"}
    info = pipelines.create_pipeline(admin, document, files)
    assert [s.depends_on for s in info.steps] == [[], ["ingest"]]
    assert pipelines.parse_pipeline_spec(spec()).step("train").kind == "train"
