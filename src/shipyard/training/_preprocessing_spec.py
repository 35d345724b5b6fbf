"""The ``preprocessing`` section of a training spec: column roles and what each role does.

``preprocessing: auto`` (the default, also when the section is left out) takes each
column's role from its type in the dataset schema; ``preprocessing: none`` keeps
the older behaviour (strings one-hot encoded, everything else passed through).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["numeric", "categorical", "boolean", "timestamp", "text"]
TimestampPart = Literal["year", "month", "day", "weekday", "hour", "minute", "dayofyear", "epoch"]
_DEFAULT_PARTS: list[TimestampPart] = ["year", "month", "day", "weekday", "hour", "epoch"]


class NumericOptions(BaseModel):
    """Numbers: fill missing values, then scale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    impute: Literal["mean", "median", "most_frequent", "constant"] = "median"
    fill_value: float = 0.0
    scale: Literal["standard", "minmax", "none"] = "standard"


class CategoricalOptions(BaseModel):
    """Categories: one-hot or ordinal codes; missing values are a category of their own
    unless imputed; rare ones beyond ``max_categories`` share one infrequent column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encode: Literal["onehot", "ordinal"] = "onehot"
    impute: Literal["none", "most_frequent", "constant"] = "none"
    fill_value: str = "missing"
    max_categories: int | None = Field(50, ge=2, le=10_000)
    min_frequency: int | None = Field(None, ge=1)
    unknown: Literal["ignore", "error"] = "ignore"


class BooleanOptions(BaseModel):
    """Booleans become 0/1; missing ones are filled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    impute: Literal["most_frequent", "constant"] = "most_frequent"
    fill_value: bool = False


class TimestampOptions(BaseModel):
    """Timestamps become calendar parts (UTC) and/or epoch seconds, then are scaled like numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parts: list[TimestampPart] = Field(
        default_factory=lambda: list(_DEFAULT_PARTS),
        min_length=1,
    )

    @field_validator("parts")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"lists {repeated} more than once")
        return value


class TextOptions(BaseModel):
    """Free text: TF-IDF of lowercased words (or words and word pairs), the
    ``max_features`` most frequent terms in the training rows; missing text is ""."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_features: int = Field(1000, ge=1, le=20_000)
    ngram_max: Literal[1, 2] = 1


class PreprocessingSpec(BaseModel):
    """How each feature column is prepared for a scikit-learn estimator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["auto", "none"] = "auto"
    roles: dict[str, Role] = Field(default_factory=dict)
    numeric: NumericOptions = Field(default_factory=NumericOptions)
    categorical: CategoricalOptions = Field(default_factory=CategoricalOptions)
    boolean: BooleanOptions = Field(default_factory=BooleanOptions)
    timestamp: TimestampOptions = Field(default_factory=TimestampOptions)
    text: TextOptions = Field(default_factory=TextOptions)

    @model_validator(mode="before")
    @classmethod
    def _from_word(cls, value: Any) -> Any:
        """``auto`` / ``none`` (or nothing) stand for the whole section."""
        if value is None:
            return {}
        if isinstance(value, str):
            return {"mode": value}
        return value

    @property
    def customized(self) -> bool:
        """Whether anything beyond ``mode`` was set."""
        return self != PreprocessingSpec(mode=self.mode)


OPTION_MODELS: dict[str, type[BaseModel]] = {
    "preprocessing": PreprocessingSpec,
    "preprocessing.numeric": NumericOptions,
    "preprocessing.categorical": CategoricalOptions,
    "preprocessing.boolean": BooleanOptions,
    "preprocessing.timestamp": TimestampOptions,
    "preprocessing.text": TextOptions,
}
