"""One home for column statistics: mergeable summaries of tables that arrive in batches.

``TableSummary`` (one ``ColumnSummary`` per column) is updated from batches (pyarrow or
pandas), merged with another summary, serialized to JSON-safe data and read back, and
turned into the profile documents datasets, streams and contracts store. Numeric columns
keep count, missing, min, max, mean and variance exactly (Chan's merge), quantiles and
histograms from a KLL sketch; string and boolean columns keep capped top-value counts;
every column keeps a k-minimum-values distinct count. ``SummaryOptions`` sizes the sketches:
``PROFILE`` for in-memory dataset profiles, ``COMPACT`` for summaries that are stored (about
20 KB of JSON per column at most; quantile rank error about 0.4%, distinct counts within
about 3%, top values exact below 1,000 distinct values).

    summary = TableSummary(COMPACT)
    for batch in batches:
        summary.update(batch)
    stored = summary.to_dict()
    later = TableSummary.from_dict(stored).merge(other_window)
    later.columns["age"].quantile([0.5]), later.profile()
"""

from shipyard.statistics._column import CATEGORICAL, NUMERIC, TEMPORAL, ColumnSummary
from shipyard.statistics._distinct import DistinctSketch
from shipyard.statistics._moments import Moments
from shipyard.statistics._options import COMPACT, PROFILE, SummaryOptions
from shipyard.statistics._profile import (
    QUANTILES,
    TOP_VALUES,
    ColumnProfile,
    DatasetProfile,
    Quantiles,
    ValueCount,
)
from shipyard.statistics._quantiles import QuantileSketch
from shipyard.statistics._table import TableSummary, as_table
from shipyard.statistics._top import TopCounts

__all__ = [
    "CATEGORICAL",
    "COMPACT",
    "NUMERIC",
    "PROFILE",
    "QUANTILES",
    "TEMPORAL",
    "TOP_VALUES",
    "ColumnProfile",
    "ColumnSummary",
    "DatasetProfile",
    "DistinctSketch",
    "Moments",
    "QuantileSketch",
    "Quantiles",
    "SummaryOptions",
    "TableSummary",
    "TopCounts",
    "ValueCount",
    "as_table",
]
