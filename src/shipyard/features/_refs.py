"""Feature references: ``view`` (every feature of the view) or ``view:feature``."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.errors import InvalidInput
from shipyard.names import check_name


def parse_feature_refs(refs: Sequence[str]) -> dict[str, list[str] | None]:
    """View name -> the features asked for (None for all), in first-mention order."""
    if not refs:
        raise InvalidInput("name at least one feature view or view:feature", field="features")
    wanted: dict[str, list[str] | None] = {}
    for ref in refs:
        view, sep, feature = ref.partition(":")
        check_name(view, field="features")
        if sep and not feature:
            raise InvalidInput(f"{ref!r} names no feature after ':'", field="features")
        if not sep:
            wanted[view] = None
        elif view not in wanted:
            wanted[view] = [feature]
        else:
            chosen = wanted[view]
            if chosen is not None and feature not in chosen:
                chosen.append(feature)
    return wanted


def select_features(view: str, available: Sequence[str], wanted: list[str] | None) -> list[str]:
    """The features of a view to return; InvalidInput for one the view does not have."""
    if wanted is None:
        return list(available)
    for feature in wanted:
        if feature not in available:
            raise InvalidInput(
                f"view {view!r} has no feature {feature!r} (it has {list(available)})",
                field="features",
            )
    return wanted


def output_name(view: str, feature: str, full: bool) -> str:
    """``view__feature``, or the bare feature name when full names are off."""
    return f"{view}__{feature}" if full else feature
