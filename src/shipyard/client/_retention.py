"""``client.retention``: how long captures, dataset versions and deleted runs are kept."""

from __future__ import annotations

import builtins

from shipyard.client._group import _Group
from shipyard.schemas.retention import RetentionReport, RetentionRule


class Retention(_Group):
    def put_rule(
        self,
        kind: str,
        target: str,
        *,
        days: int | None = None,
        keep_last: int | None = None,
        every_seconds: int = 3600,
    ) -> RetentionRule:
        """``("captures", endpoint, days=30)``, ``("dataset_versions", name, keep_last=5)``
        or ``("deleted_runs", experiment, days=30)``."""
        return RetentionRule.model_validate(
            self._t.call(
                "retention.put_rule",
                kind=kind,
                target=target,
                days=days,
                keep_last=keep_last,
                every_seconds=every_seconds,
            )
        )

    def list_rules(self) -> builtins.list[RetentionRule]:
        return [RetentionRule.model_validate(r) for r in self._t.call("retention.list_rules")]

    def delete_rule(self, kind: str, target: str) -> RetentionRule:
        return RetentionRule.model_validate(
            self._t.call("retention.delete_rule", kind=kind, target=target)
        )

    def apply(self, *, dry_run: bool = False, kind: str | None = None) -> RetentionReport:
        """Apply every rule now, each delete authorized as this caller; ``dry_run`` lists."""
        return RetentionReport.model_validate(
            self._t.call("retention.apply", dry_run=dry_run, kind=kind)
        )
