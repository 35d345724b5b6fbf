"""The estimators a training spec may name, and the parameters Shipyard manages for each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["classifier", "regressor", "transformer"]


@dataclass(frozen=True)
class EstimatorEntry:
    """One allowlisted estimator class.

    ``forced`` parameters are set by Shipyard (a user may only repeat the same value),
    ``forbidden`` ones may not be set at all, ``extra_params`` are accepted beyond
    ``get_params()`` (LightGBM core options). ``reason`` explains forced/forbidden ones.
    ``calibrated`` estimators are wrapped in CalibratedClassifierCV for probabilities.
    ``import_path`` (``module:Class``) locates Shipyard's own estimators, whose spec name
    is not a module path (``text.SentenceClassifier``).
    """

    name: str
    role: Role
    flavor: Literal["sklearn", "lightgbm", "xgboost", "text"] = "sklearn"
    forced: Mapping[str, Any] = field(default_factory=dict)
    extra_params: frozenset[str] = frozenset()
    reason: str = ""
    forbidden: frozenset[str] = frozenset()
    calibrated: bool = False
    import_path: str = ""

    @property
    def module(self) -> str:
        if self.import_path:
            return self.import_path.split(":", 1)[0]
        return self.name.rsplit(".", 1)[0]

    @property
    def class_name(self) -> str:
        if self.import_path:
            return self.import_path.split(":", 1)[1]
        return self.name.rsplit(".", 1)[1]


TEXT_ESTIMATOR = "text.SentenceClassifier"
_LIGHTGBM_FORCED = {"deterministic": True, "force_row_wise": True, "verbose": -1}
_LIGHTGBM_EXTRA = frozenset(
    {
        "max_bin",
        "min_data_in_bin",
        "feature_fraction_bynode",
        "extra_trees",
        "path_smooth",
        "cat_smooth",
        "cat_l2",
        "max_cat_threshold",
        "max_cat_to_onehot",
        "min_data_per_group",
        "is_unbalance",
        "scale_pos_weight",
        "min_sum_hessian_in_leaf",
        "boost_from_average",
    }
)
_LIGHTGBM_REASON = "Shipyard sets it so that training is reproducible and quiet"
_XGBOOST_FORCED = {"device": "cpu", "enable_categorical": True}
_XGBOOST_REASON = (
    "Shipyard trains on CPU, passes string columns as categories, and fits without "
    "an evaluation set"
)
_XGBOOST_FORBIDDEN = frozenset({"callbacks", "early_stopping_rounds", "feature_types"})
_KNN_REASON = "only brute-force neighbours are stored, since tree indexes cannot be verified"

_ENTRIES = [
    EstimatorEntry(
        "lightgbm.LGBMClassifier",
        "classifier",
        "lightgbm",
        _LIGHTGBM_FORCED,
        _LIGHTGBM_EXTRA,
        _LIGHTGBM_REASON,
    ),
    EstimatorEntry(
        "lightgbm.LGBMRegressor",
        "regressor",
        "lightgbm",
        _LIGHTGBM_FORCED,
        _LIGHTGBM_EXTRA,
        _LIGHTGBM_REASON,
    ),
    EstimatorEntry(
        "xgboost.XGBClassifier",
        "classifier",
        "xgboost",
        _XGBOOST_FORCED,
        reason=_XGBOOST_REASON,
        forbidden=_XGBOOST_FORBIDDEN,
    ),
    EstimatorEntry(
        "xgboost.XGBRegressor",
        "regressor",
        "xgboost",
        _XGBOOST_FORCED,
        reason=_XGBOOST_REASON,
        forbidden=_XGBOOST_FORBIDDEN,
    ),
    EstimatorEntry(
        TEXT_ESTIMATOR,
        "classifier",
        "text",
        import_path="shipyard.training._text_estimator:SentenceClassifier",
    ),
    EstimatorEntry("sklearn.linear_model.LogisticRegression", "classifier"),
    EstimatorEntry("sklearn.linear_model.LinearRegression", "regressor"),
    EstimatorEntry("sklearn.linear_model.Ridge", "regressor"),
    EstimatorEntry("sklearn.linear_model.ElasticNet", "regressor"),
    EstimatorEntry("sklearn.ensemble.RandomForestClassifier", "classifier"),
    EstimatorEntry("sklearn.ensemble.RandomForestRegressor", "regressor"),
    EstimatorEntry("sklearn.ensemble.ExtraTreesClassifier", "classifier"),
    EstimatorEntry("sklearn.ensemble.ExtraTreesRegressor", "regressor"),
    EstimatorEntry("sklearn.ensemble.GradientBoostingClassifier", "classifier"),
    EstimatorEntry("sklearn.ensemble.GradientBoostingRegressor", "regressor"),
    EstimatorEntry(
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "classifier",
        forced={"categorical_features": None},
        reason="string columns are one-hot encoded by Shipyard",
    ),
    EstimatorEntry(
        "sklearn.ensemble.HistGradientBoostingRegressor",
        "regressor",
        forced={"categorical_features": None},
        reason="string columns are one-hot encoded by Shipyard",
    ),
    EstimatorEntry("sklearn.tree.DecisionTreeClassifier", "classifier"),
    EstimatorEntry("sklearn.tree.DecisionTreeRegressor", "regressor"),
    EstimatorEntry(
        "sklearn.svm.SVC",
        "classifier",
        reason="Shipyard calibrates probabilities with CalibratedClassifierCV instead",
        forbidden=frozenset({"probability"}),
        calibrated=True,
    ),
    EstimatorEntry(
        "sklearn.neighbors.KNeighborsClassifier",
        "classifier",
        forced={"algorithm": "brute"},
        reason=_KNN_REASON,
    ),
    EstimatorEntry(
        "sklearn.neighbors.KNeighborsRegressor",
        "regressor",
        forced={"algorithm": "brute"},
        reason=_KNN_REASON,
    ),
    EstimatorEntry("sklearn.preprocessing.StandardScaler", "transformer"),
    EstimatorEntry("sklearn.preprocessing.MinMaxScaler", "transformer"),
    EstimatorEntry("sklearn.preprocessing.RobustScaler", "transformer"),
    EstimatorEntry("sklearn.preprocessing.PolynomialFeatures", "transformer"),
    EstimatorEntry(
        "sklearn.preprocessing.OneHotEncoder",
        "transformer",
        forced={"handle_unknown": "ignore", "sparse_output": False},
        reason="unseen categories must not fail predictions, and outputs stay dense",
    ),
    EstimatorEntry("sklearn.impute.SimpleImputer", "transformer"),
    EstimatorEntry("sklearn.decomposition.PCA", "transformer"),
]

ESTIMATORS: Mapping[str, EstimatorEntry] = {entry.name: entry for entry in _ENTRIES}
PIPELINE = "sklearn.pipeline"
