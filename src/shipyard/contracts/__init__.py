"""Data contracts: suggested from a baseline, versioned as YAML, validated with drift."""

from shipyard.contracts._drift import summary_counts, summary_reference
from shipyard.contracts._drift_stats import (
    ChiSquare,
    DriftStatistic,
    JensenShannon,
    KolmogorovSmirnov,
    Measure,
    PopulationStability,
)
from shipyard.contracts._engine import Validation, validate_parquet, validate_table
from shipyard.contracts._gate import ingest
from shipyard.contracts._html import render_html
from shipyard.contracts._patterns import infer_pattern
from shipyard.contracts._service import (
    apply,
    get,
    get_validation,
    list_contracts,
    list_validations,
    suggest,
    validate,
    validate_version,
)
from shipyard.contracts._store import latest_validation, refuse_failed_validation
from shipyard.contracts._suggest import build_reference, suggest_contract
from shipyard.schemas.contract_document import (
    contract_digest,
    contract_document,
    contract_yaml,
    parse_contract,
)
from shipyard.schemas.contract_report import (
    CheckResult,
    ColumnStatistics,
    DriftBin,
    DriftResult,
    ValidationReport,
    ValidationSummary,
)
from shipyard.schemas.contract_spec import (
    CategoricalReference,
    ColumnContract,
    Contract,
    DriftPolicy,
    NumericReference,
    Reference,
)
from shipyard.schemas.contracts import (
    ContractInfo,
    ContractSuggestion,
    ContractSummary,
    GatedIngest,
)
from shipyard.schemas.gate import OnFail

__all__ = [
    "CategoricalReference",
    "CheckResult",
    "ChiSquare",
    "ColumnContract",
    "ColumnStatistics",
    "Contract",
    "ContractInfo",
    "ContractSuggestion",
    "ContractSummary",
    "DriftBin",
    "DriftPolicy",
    "DriftResult",
    "DriftStatistic",
    "GatedIngest",
    "JensenShannon",
    "KolmogorovSmirnov",
    "Measure",
    "NumericReference",
    "OnFail",
    "PopulationStability",
    "Reference",
    "Validation",
    "ValidationReport",
    "ValidationSummary",
    "apply",
    "build_reference",
    "contract_digest",
    "contract_document",
    "contract_yaml",
    "get",
    "get_validation",
    "infer_pattern",
    "ingest",
    "latest_validation",
    "list_contracts",
    "list_validations",
    "parse_contract",
    "refuse_failed_validation",
    "render_html",
    "suggest",
    "suggest_contract",
    "summary_counts",
    "summary_reference",
    "validate",
    "validate_parquet",
    "validate_table",
    "validate_version",
]
