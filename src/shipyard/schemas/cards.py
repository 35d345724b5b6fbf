"""The model card document, and its Markdown and HTML renderings (made on either side of
the wire: the server returns the document, a client renders it)."""

from __future__ import annotations

import html
from datetime import datetime

from shipyard.schemas._base import WireModel
from shipyard.schemas.registry import ApprovalDecision, LineageGraph, ModelVersionInfo


class CardTraining(WireModel):
    """The run that produced the version."""

    run_id: str
    run_name: str
    experiment: str
    trained_by: str
    started_at: datetime
    ended_at: datetime | None
    params: dict[str, str]
    metrics: dict[str, float]
    code: dict[str, str]
    """Digest of each source file and of ``environment.json`` (Python and package versions)."""


class CardDataset(WireModel):
    """A dataset version the run trained on, and its latest contract validation."""

    ref: str
    digest: str
    rows: int
    columns: dict[str, str]
    contract: str | None
    validation: str | None
    validation_id: int | None
    failed_checks: list[str]


class CardEvaluation(WireModel):
    id: str
    data: str
    task: str
    rows: int
    metrics: dict[str, float | None]
    passed: bool | None
    created_at: datetime


class ModelCard(WireModel):
    """Everything recorded about one model version, for reviewers and auditors."""

    model: str
    version: int
    generated_at: datetime
    four_eyes: bool
    summary: ModelVersionInfo
    approvals: list[ApprovalDecision]
    training: CardTraining | None
    data: list[CardDataset]
    evaluations: list[CardEvaluation]
    lineage: LineageGraph

    def sections(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """The card as (title, header, rows) tables, in reading order."""
        s = self.summary
        overview = [
            ["model", f"{self.model}@{self.version}"],
            ["flavor", s.flavor],
            ["artifact digest", s.digest],
            ["size", f"{s.size_bytes:,} bytes"],
            ["registered by", f"{s.created_by} at {_time(s.created_at)}"],
            ["approval", s.approval + (f" ({s.approval_reason})" if s.approval_reason else "")],
            ["four-eyes rule", "on" if self.four_eyes else "off"],
            ["aliases", ", ".join(s.aliases) or "-"],
        ]
        if s.code_digest:
            overview.append(["code digest", f"{s.code_digest} (by {s.code_registered_by})"])
        out = [("Overview", ["field", "value"], overview)]
        inputs = s.signature.get("inputs") or []
        if inputs:
            out.append(
                (
                    "Signature",
                    ["input", "type"],
                    [[str(c.get("name", "")), str(c.get("type", ""))] for c in inputs],
                )
            )
        out.append(
            (
                "Approvals",
                ["status", "by", "at", "reason"],
                [
                    [a.status, a.principal, _time(a.decided_at), a.reason or ""]
                    for a in self.approvals
                ],
            )
        )
        if self.training is not None:
            r = self.training
            ended = _time(r.ended_at) if r.ended_at else "not ended"
            out.append(
                (
                    "Training",
                    ["field", "value"],
                    [
                        ["run", f"{r.run_name} ({r.run_id})"],
                        ["experiment", r.experiment],
                        ["trained by", r.trained_by],
                        ["ran", f"{_time(r.started_at)} to {ended}"],
                    ],
                )
            )
            out.append(("Parameters", ["name", "value"], [[k, v] for k, v in r.params.items()]))
            out.append(
                ("Metrics", ["name", "value"], [[k, f"{v:.6g}"] for k, v in r.metrics.items()])
            )
            out.append(("Code", ["file", "digest"], [[k, v] for k, v in r.code.items()]))
        out.append(
            (
                "Training data",
                ["dataset", "rows", "columns", "digest", "contract", "validation"],
                [
                    [
                        d.ref,
                        f"{d.rows:,}",
                        str(len(d.columns)),
                        d.digest,
                        d.contract or "none",
                        _validation(d),
                    ]
                    for d in self.data
                ],
            )
        )
        out.append(
            (
                "Evaluations",
                ["data", "task", "rows", "metrics", "passed"],
                [
                    [
                        e.data,
                        e.task,
                        f"{e.rows:,}",
                        ", ".join(f"{k}={v:.4g}" for k, v in e.metrics.items() if v is not None),
                        "-" if e.passed is None else ("yes" if e.passed else "no"),
                    ]
                    for e in self.evaluations
                ],
            )
        )
        out.append(
            (
                "Gate checks",
                ["stage", "passed", "by", "reason"],
                [
                    [g.stage, "yes" if g.passed else "no", g.checked_by, g.reason]
                    for g in s.gate_checks
                ],
            )
        )
        labels = {n.id: f"{n.kind} {n.label}" for n in self.lineage.nodes}
        out.append(
            (
                "Lineage",
                ["from", "to"],
                [[labels.get(a, a), labels.get(b, b)] for a, b in self.lineage.edges],
            )
        )
        return out

    def to_markdown(self) -> str:
        lines = [
            f"# Model card: {self.model}@{self.version}",
            "",
            f"Generated {_time(self.generated_at)} from the platform's records.",
        ]
        for title, header, rows in self.sections():
            lines += ["", f"## {title}", ""]
            if not rows:
                lines.append("None recorded.")
                continue
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        e = html.escape
        title = f"Model card: {self.model}@{self.version}"
        parts = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{e(title)}</title>",
            "<style>body{font:14px/1.4 system-ui,sans-serif;max-width:60em;margin:2em auto;"
            "padding:0 1em}table{border-collapse:collapse;margin:.5em 0 1.5em}"
            "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;"
            "vertical-align:top}th{background:#f3f3f3}code{font-size:90%}</style>",
            "</head><body>",
            f"<h1>{e(title)}</h1>",
            f"<p>Generated {e(_time(self.generated_at))} from the platform's records.</p>",
        ]
        for section, header, rows in self.sections():
            parts.append(f"<h2>{e(section)}</h2>")
            if not rows:
                parts.append("<p>None recorded.</p>")
                continue
            parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
            parts += [
                "<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows
            ]
            parts.append("</table>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _validation(d: CardDataset) -> str:
    if d.validation is None:
        return "not validated"
    text = f"{d.validation} (report {d.validation_id})"
    return text + (f": {', '.join(d.failed_checks)}" if d.failed_checks else "")


def _md(cell: str) -> str:
    """A table cell: pipes escaped, newlines flattened."""
    return cell.replace("|", "\\|").replace("\n", " ")
