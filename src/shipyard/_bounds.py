"""Bounds every operation argument obeys, whatever its type says: integers fit int64,
floats are finite, strings are storable text. ``Operation`` validates with ``bounded``
annotations, so both transports and the OpenAPI document agree on them."""

from __future__ import annotations

import functools
import types
import typing
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from shipyard.errors import InvalidInput

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _plain_text(value: str) -> str:
    """Refuse what no metadata backend can store: NUL and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no unpaired surrogates)") from None
    return value


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# Parameters that name rows by 32-bit integer columns (versions, validation report ids):
# PostgreSQL refuses a larger number even in a comparison.
INT32_PARAMETERS = frozenset({"version", "report_id"})

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Text = Annotated[str, AfterValidator(_plain_text)]
_BOUNDED: dict[Any, Any] = {int: Int64, float: FiniteFloat, str: Text}
_BOUNDED_32: dict[Any, Any] = _BOUNDED | {int: Int32}


def bounded(annotation: Any, name: str = "") -> Any:
    """``annotation`` with every ``int`` bounded to int64 (int32 for the parameters in
    ``INT32_PARAMETERS``), every ``float`` finite and every ``str`` storable, through
    unions, lists, tuples and dicts (nested models are checked after validation by
    ``check_nested_ints``)."""
    table = _BOUNDED_32 if name in INT32_PARAMETERS else _BOUNDED
    if annotation in table:
        return table[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if not args or origin in (typing.Literal, Annotated):
        return annotation
    new = tuple(bounded(a, name) for a in args)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[new]  # noqa: UP007 - rebuilt from a tuple of members
    if origin in (list, dict, tuple, set, frozenset):
        return origin[new]
    return annotation


def check_nested_ints(value: Any, where: str) -> None:
    """Refuse an integer past int64 anywhere inside a validated nested model."""
    path = _int_out_of_range(value)
    if path is not None:
        raise InvalidInput("must be a 64-bit integer", field=".".join([where, *path]))


def _int_out_of_range(value: Any) -> list[str] | None:
    """The path to the first integer past int64 in ``value``, or None (the path is built
    only on failure: a batch of a thousand metrics is checked without a string made)."""
    if type(value) is int:
        return None if INT64_MIN <= value <= INT64_MAX else []
    if isinstance(value, BaseModel):
        for name in _fields_with_ints(type(value)):
            found = _int_out_of_range(getattr(value, name))
            if found is not None:
                return [name, *found]
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _int_out_of_range(item)
            if found is not None:
                return [str(i), *found]
    return None


@functools.cache
def _fields_with_ints(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` whose type can hold an integer (directly or nested)."""
    return tuple(
        name for name, info in model.model_fields.items() if _can_hold_int(info.annotation)
    )


def _can_hold_int(annotation: Any) -> bool:
    if annotation is int or annotation is Any:
        return True
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel) or (
            issubclass(annotation, int) and annotation is not bool
        )
    return any(_can_hold_int(a) for a in typing.get_args(annotation))


def holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel)
    return any(holds_model(a) for a in typing.get_args(annotation))
