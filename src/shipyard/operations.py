"""The catalog of every control-plane operation: its name, its HTTP route, its service function.

The REST app, both SDK transports and the route-walking security test are
derived from this one table, so an operation cannot exist on one interface
and be missing (or unchecked) on another. Every handler is an ``@operation``
service function, so every entry is authorized where it is implemented.

Handlers are named as ``"module:function"`` and imported when first used, so the
catalog itself is plain data: the SDK's HTTP transport and the CLI read it without
loading a single service module.
"""

from __future__ import annotations

from shipyard._operation import Operation
from shipyard._operations_console import CONSOLE_OPERATIONS
from shipyard._operations_iam import IAM_OPERATIONS, TAG_OPERATIONS
from shipyard._operations_lifecycle import LIFECYCLE_OPERATIONS
from shipyard._operations_ops import OPS_OPERATIONS
from shipyard._operations_tracking import TRACKING_OPERATIONS

__all__ = ["BY_NAME", "OPERATIONS", "Operation"]

_V1 = "/api/v1"


def _job_operations(
    area: str, path: str, create: str, list_: str, get: str, cancel: str, read_log: str
) -> tuple[Operation, ...]:
    """The five operations every job kind has, under ``/api/v1/<path>``: create, list, get,
    cancel and read its log."""
    base = f"{_V1}/{path}"
    return (
        Operation(f"{area}.create_job", "POST", base, create, 201),
        Operation(f"{area}.list_jobs", "GET", base, list_),
        Operation(f"{area}.get_job", "GET", f"{base}/{{job_id}}", get),
        Operation(f"{area}.cancel_job", "POST", f"{base}/{{job_id}}/cancel", cancel),
        Operation(f"{area}.read_log", "GET", f"{base}/{{job_id}}/log", read_log),
    )


OPERATIONS: tuple[Operation, ...] = (
    *IAM_OPERATIONS,
    *TAG_OPERATIONS,
    # contracts
    Operation(
        "contracts.suggest",
        "GET",
        f"{_V1}/datasets/{{dataset}}/contract-suggestion",
        "shipyard.contracts:suggest",
    ),
    Operation("contracts.apply", "POST", f"{_V1}/contracts", "shipyard.contracts:apply", 201),
    Operation("contracts.list", "GET", f"{_V1}/contracts", "shipyard.contracts:list_contracts"),
    Operation("contracts.get", "GET", f"{_V1}/contracts/{{name}}", "shipyard.contracts:get"),
    Operation(
        "contracts.validate",
        "POST",
        f"{_V1}/datasets/{{dataset}}/validations",
        "shipyard.contracts:validate",
        201,
    ),
    Operation(
        "contracts.list_validations",
        "GET",
        f"{_V1}/datasets/{{dataset}}/validations",
        "shipyard.contracts:list_validations",
    ),
    Operation(
        "contracts.get_validation",
        "GET",
        f"{_V1}/validations/{{report_id}}",
        "shipyard.contracts:get_validation",
    ),
    Operation(
        "contracts.ingest",
        "POST",
        f"{_V1}/datasets/{{name}}/validated-versions",
        "shipyard.contracts:ingest",
        201,
        raw_body="content",
    ),
    # datasets
    Operation(
        "datasets.ingest",
        "POST",
        f"{_V1}/datasets/{{name}}/versions",
        "shipyard.datasets:ingest",
        201,
        raw_body="content",
    ),
    Operation("datasets.list", "GET", f"{_V1}/datasets", "shipyard.datasets:list_datasets"),
    Operation(
        "datasets.list_versions",
        "GET",
        f"{_V1}/datasets/{{name}}/versions",
        "shipyard.datasets:list_versions",
    ),
    Operation("datasets.get", "GET", f"{_V1}/datasets/{{name}}", "shipyard.datasets:get_version"),
    Operation("datasets.head", "GET", f"{_V1}/datasets/{{name}}/head", "shipyard.datasets:head"),
    Operation(
        "datasets.read",
        "GET",
        f"{_V1}/datasets/{{name}}/data",
        "shipyard.datasets:read",
        streams_table=True,
    ),
    *LIFECYCLE_OPERATIONS,
    *TRACKING_OPERATIONS,
    # training jobs
    *_job_operations(
        "training",
        "training-jobs",
        "shipyard.jobs:create_training_job",
        "shipyard.jobs:list_training_jobs",
        "shipyard.jobs:get_training_job",
        "shipyard.jobs:cancel_training_job",
        "shipyard.jobs:read_training_log",
    ),
    Operation(
        "training.run_code",
        "POST",
        f"{_V1}/training-jobs/code",
        "shipyard.jobs:run_training_code",
        201,
    ),
    # registry
    Operation(
        "registry.register",
        "POST",
        f"{_V1}/models/{{name}}/versions",
        "shipyard.registry:register_model",
        201,
    ),
    Operation(
        "registry.create_model", "POST", f"{_V1}/models", "shipyard.registry:create_model", 201
    ),
    Operation("registry.list_models", "GET", f"{_V1}/models", "shipyard.registry:list_models"),
    Operation("registry.get_model", "GET", f"{_V1}/models/{{name}}", "shipyard.registry:get_model"),
    Operation(
        "registry.update_model", "PATCH", f"{_V1}/models/{{name}}", "shipyard.registry:update_model"
    ),
    Operation(
        "registry.get_version",
        "GET",
        f"{_V1}/model-versions/{{ref}}",
        "shipyard.registry:get_model_version",
    ),
    Operation(
        "registry.set_approval",
        "POST",
        f"{_V1}/models/{{name}}/versions/{{version}}/approval",
        "shipyard.registry:set_approval",
    ),
    Operation(
        "registry.approval_history",
        "GET",
        f"{_V1}/models/{{name}}/versions/{{version}}/approvals",
        "shipyard.registry:approval_history",
    ),
    Operation(
        "registry.set_alias",
        "PUT",
        f"{_V1}/models/{{name}}/aliases/{{alias}}",
        "shipyard.registry:set_alias",
    ),
    Operation(
        "registry.delete_version",
        "DELETE",
        f"{_V1}/models/{{name}}",
        "shipyard.registry:delete_version",
    ),
    Operation(
        "registry.delete_alias",
        "DELETE",
        f"{_V1}/models/{{name}}/aliases/{{alias}}",
        "shipyard.registry:delete_alias",
    ),
    Operation("registry.lineage", "GET", f"{_V1}/lineage", "shipyard.registry:lineage"),
    Operation(
        "registry.model_card",
        "GET",
        f"{_V1}/models/{{name}}/versions/{{version}}/card",
        "shipyard.governance:model_card",
    ),
    # evaluation and gates
    Operation(
        "evaluation.evaluate",
        "POST",
        f"{_V1}/model-versions/{{ref}}/evaluations",
        "shipyard.evaluation:evaluate_model_version",
        201,
    ),
    Operation(
        "evaluation.list",
        "GET",
        f"{_V1}/model-versions/{{ref}}/evaluations",
        "shipyard.evaluation:list_evaluations",
    ),
    Operation(
        "evaluation.get",
        "GET",
        f"{_V1}/evaluations/{{evaluation_id}}",
        "shipyard.evaluation:get_evaluation",
    ),
    Operation(
        "evaluation.report",
        "GET",
        f"{_V1}/evaluations/{{evaluation_id}}/report",
        "shipyard.evaluation:get_evaluation_report",
    ),
    Operation(
        "evaluation.set_gate", "PUT", f"{_V1}/models/{{name}}/gate", "shipyard.evaluation:set_gate"
    ),
    Operation(
        "evaluation.get_gate", "GET", f"{_V1}/models/{{name}}/gate", "shipyard.evaluation:get_gate"
    ),
    Operation(
        "evaluation.delete_gate",
        "DELETE",
        f"{_V1}/models/{{name}}/gate",
        "shipyard.evaluation:delete_gate",
    ),
    # endpoints
    Operation(
        "endpoints.create", "POST", f"{_V1}/endpoints", "shipyard.endpoints:create_endpoint", 201
    ),
    Operation("endpoints.list", "GET", f"{_V1}/endpoints", "shipyard.endpoints:list_endpoints"),
    Operation(
        "endpoints.get", "GET", f"{_V1}/endpoints/{{name}}", "shipyard.endpoints:get_endpoint"
    ),
    Operation(
        "endpoints.update",
        "PATCH",
        f"{_V1}/endpoints/{{name}}",
        "shipyard.endpoints:update_endpoint",
    ),
    Operation(
        "endpoints.delete_captures",
        "DELETE",
        f"{_V1}/endpoints/{{name}}/captures",
        "shipyard.endpoints:delete_captures",
    ),
    Operation(
        "endpoints.delete",
        "DELETE",
        f"{_V1}/endpoints/{{name}}",
        "shipyard.endpoints:delete_endpoint",
    ),
    Operation(
        "endpoints.set_weights",
        "PUT",
        f"{_V1}/endpoints/{{name}}/weights",
        "shipyard.endpoints:set_weights",
    ),
    Operation(
        "endpoints.add_variant",
        "POST",
        f"{_V1}/endpoints/{{name}}/variants",
        "shipyard.endpoints:add_variant",
        201,
    ),
    Operation(
        "endpoints.remove_variant",
        "DELETE",
        f"{_V1}/endpoints/{{name}}/variants/{{variant}}",
        "shipyard.endpoints:remove_variant",
    ),
    Operation(
        "endpoints.configure",
        "PATCH",
        f"{_V1}/endpoints/{{name}}/settings",
        "shipyard.endpoints:configure_endpoint",
    ),
    Operation(
        "endpoints.feedback",
        "POST",
        f"{_V1}/endpoints/{{name}}/feedback",
        "shipyard.endpoints:put_feedback",
    ),
    Operation(
        "endpoints.compare",
        "GET",
        f"{_V1}/endpoints/{{name}}/compare",
        "shipyard.endpoints:compare_variants",
    ),
    Operation(
        "endpoints.configure_bandit",
        "PUT",
        f"{_V1}/endpoints/{{name}}/bandit",
        "shipyard.endpoints:configure_bandit",
    ),
    Operation(
        "endpoints.bandit_step",
        "POST",
        f"{_V1}/endpoints/{{name}}/bandit/step",
        "shipyard.endpoints:bandit_step",
    ),
    # deployments
    Operation(
        "deployments.create",
        "POST",
        f"{_V1}/deployments",
        "shipyard.deploy:create_deployment",
        201,
    ),
    Operation("deployments.list", "GET", f"{_V1}/deployments", "shipyard.deploy:list_deployments"),
    Operation(
        "deployments.get",
        "GET",
        f"{_V1}/deployments/{{deployment_id}}",
        "shipyard.deploy:get_deployment",
    ),
    Operation(
        "deployments.advance",
        "POST",
        f"{_V1}/deployments/{{deployment_id}}/advance",
        "shipyard.deploy:advance_deployment",
    ),
    Operation(
        "deployments.resume",
        "POST",
        f"{_V1}/deployments/{{deployment_id}}/resume",
        "shipyard.deploy:resume_deployment",
    ),
    Operation(
        "deployments.rollback",
        "POST",
        f"{_V1}/endpoints/{{endpoint}}/rollback",
        "shipyard.deploy:rollback_endpoint",
    ),
    # transforms
    Operation(
        "transforms.apply",
        "POST",
        f"{_V1}/transforms/{{name}}/versions",
        "shipyard.transforms:apply_transform",
        201,
    ),
    Operation("transforms.list", "GET", f"{_V1}/transforms", "shipyard.transforms:list_transforms"),
    Operation(
        "transforms.get", "GET", f"{_V1}/transforms/{{name}}", "shipyard.transforms:get_transform"
    ),
    Operation(
        "transforms.run",
        "POST",
        f"{_V1}/transforms/{{name}}/runs",
        "shipyard.transforms:run_transform",
        201,
    ),
    Operation(
        "transforms.list_runs",
        "GET",
        f"{_V1}/transforms/{{name}}/runs",
        "shipyard.transforms:list_transform_runs",
    ),
    Operation(
        "transforms.lineage",
        "GET",
        f"{_V1}/dataset-lineage",
        "shipyard.transforms:dataset_lineage",
    ),
    # streams
    Operation("streams.create", "POST", f"{_V1}/streams", "shipyard.streams:create_stream", 201),
    Operation("streams.list", "GET", f"{_V1}/streams", "shipyard.streams:list_streams"),
    Operation("streams.get", "GET", f"{_V1}/streams/{{name}}", "shipyard.streams:get_stream"),
    Operation(
        "streams.put_records",
        "POST",
        f"{_V1}/streams/{{name}}/records",
        "shipyard.streams:put_records",
    ),
    Operation(
        "streams.put_ndjson",
        "POST",
        f"{_V1}/streams/{{name}}/records/ndjson",
        "shipyard.streams:put_ndjson",
        raw_body="content",
    ),
    Operation(
        "streams.list_commits",
        "GET",
        f"{_V1}/streams/{{name}}/commits",
        "shipyard.streams:list_commits",
    ),
    Operation(
        "streams.list_rejections",
        "GET",
        f"{_V1}/streams/{{name}}/rejections",
        "shipyard.streams:list_rejections",
    ),
    # features
    Operation(
        "features.apply_view",
        "PUT",
        f"{_V1}/feature-views/{{name}}",
        "shipyard.features:apply_view",
    ),
    Operation("features.list_views", "GET", f"{_V1}/feature-views", "shipyard.features:list_views"),
    Operation(
        "features.get_view", "GET", f"{_V1}/feature-views/{{name}}", "shipyard.features:get_view"
    ),
    Operation(
        "features.materialize",
        "POST",
        f"{_V1}/feature-views/{{name}}/materialize",
        "shipyard.features:materialize",
    ),
    Operation(
        "features.retrieve",
        "POST",
        f"{_V1}/feature-retrievals",
        "shipyard.features:retrieve",
        201,
    ),
    Operation(
        "features.get_online",
        "POST",
        f"{_V1}/online-features",
        "shipyard.features:get_online_features",
    ),
    Operation(
        "features.put_endpoint_features",
        "PUT",
        f"{_V1}/endpoints/{{endpoint}}/features",
        "shipyard.features:put_endpoint_features",
    ),
    Operation(
        "features.get_endpoint_features",
        "GET",
        f"{_V1}/endpoints/{{endpoint}}/features",
        "shipyard.features:get_endpoint_features",
    ),
    Operation(
        "features.delete_endpoint_features",
        "DELETE",
        f"{_V1}/endpoints/{{endpoint}}/features",
        "shipyard.features:delete_endpoint_features",
    ),
    # automl jobs
    *_job_operations(
        "automl",
        "automl-jobs",
        "shipyard.jobs:create_automl_job",
        "shipyard.jobs:list_automl_jobs",
        "shipyard.jobs:get_automl_job",
        "shipyard.jobs:cancel_automl_job",
        "shipyard.jobs:read_automl_log",
    ),
    Operation(
        "automl.leaderboard",
        "GET",
        f"{_V1}/automl-jobs/{{job_id}}/leaderboard",
        "shipyard.jobs:get_automl_leaderboard",
    ),
    # tuning jobs
    *_job_operations(
        "tuning",
        "tuning-jobs",
        "shipyard.jobs:create_tuning_job",
        "shipyard.jobs:list_tuning_jobs",
        "shipyard.jobs:get_tuning_job",
        "shipyard.jobs:cancel_tuning_job",
        "shipyard.jobs:read_tuning_log",
    ),
    Operation(
        "tuning.resume_job",
        "POST",
        f"{_V1}/tuning-jobs/{{job_id}}/resume",
        "shipyard.jobs:resume_tuning_job",
    ),
    Operation(
        "tuning.list_trials",
        "GET",
        f"{_V1}/tuning-jobs/{{job_id}}/trials",
        "shipyard.jobs:list_tuning_trials",
    ),
    Operation(
        "tuning.best",
        "GET",
        f"{_V1}/tuning-jobs/{{job_id}}/best",
        "shipyard.jobs:best_tuning_trials",
    ),
    Operation(
        "tuning.register_best",
        "POST",
        f"{_V1}/tuning-jobs/{{job_id}}/register",
        "shipyard.jobs:register_best_trial",
        201,
    ),
    Operation(
        "tuning.report",
        "GET",
        f"{_V1}/tuning-jobs/{{job_id}}/report",
        "shipyard.jobs:tuning_report",
    ),
    # batch transform
    *_job_operations(
        "batch",
        "batch-jobs",
        "shipyard.batch:create_batch_job",
        "shipyard.batch:list_batch_jobs",
        "shipyard.batch:get_batch_job",
        "shipyard.batch:cancel_batch_job",
        "shipyard.batch:read_batch_log",
    ),
    Operation(
        "batch.resume_job",
        "POST",
        f"{_V1}/batch-jobs/{{job_id}}/resume",
        "shipyard.batch:resume_batch_job",
    ),
    # edge export
    Operation(
        "edge.export",
        "POST",
        f"{_V1}/model-versions/{{ref}}/exports",
        "shipyard.edge:export_model",
        201,
    ),
    Operation(
        "edge.list", "GET", f"{_V1}/model-versions/{{ref}}/exports", "shipyard.edge:list_exports"
    ),
    Operation("edge.get", "GET", f"{_V1}/edge-exports/{{export_id}}", "shipyard.edge:get_export"),
    Operation(
        "edge.package",
        "GET",
        f"{_V1}/edge-exports/{{export_id}}/package",
        "shipyard.edge:get_package",
    ),
    *OPS_OPERATIONS,
    *CONSOLE_OPERATIONS,
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
