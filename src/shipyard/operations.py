"""The catalog of every control-plane operation: its name, its HTTP route, its service function.

The REST app, both SDK transports and the route-walking security test are
derived from this one table, so an operation cannot exist on one interface
and be missing (or unchecked) on another. Every handler is an ``@operation``
service function, so every entry is authorized where it is implemented.
"""

from __future__ import annotations

from typing import Any

from shipyard import batch as batch_service
from shipyard import contracts as contract_service
from shipyard import datasets, jobs, registry, security, tracking
from shipyard import deploy as deploy_service
from shipyard import edge as edge_service
from shipyard import endpoints as endpoint_service
from shipyard import evaluation as evaluation_service
from shipyard import features as feature_service
from shipyard import streams as stream_service
from shipyard import transforms as transform_service
from shipyard._operation import Operation
from shipyard._operations_console import CONSOLE_OPERATIONS
from shipyard._operations_ops import OPS_OPERATIONS

__all__ = ["BY_NAME", "OPERATIONS", "Operation"]

_V1 = "/api/v1"


def _job_operations(
    area: str, path: str, create: Any, list_: Any, get: Any, cancel: Any, read_log: Any
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
    # identity and access
    Operation("iam.create_principal", "POST", f"{_V1}/principals", security.create_principal, 201),
    Operation("iam.list_principals", "GET", f"{_V1}/principals", security.list_principals),
    Operation(
        "iam.create_api_key",
        "POST",
        f"{_V1}/principals/{{principal}}/keys",
        security.create_api_key,
        201,
    ),
    Operation(
        "iam.list_api_keys",
        "GET",
        f"{_V1}/principals/{{principal}}/keys",
        security.list_api_keys,
    ),
    Operation("iam.revoke_api_key", "DELETE", f"{_V1}/keys/{{key_id}}", security.revoke_api_key),
    Operation("iam.put_policy", "PUT", f"{_V1}/policies/{{name}}", security.put_policy),
    Operation("iam.list_policies", "GET", f"{_V1}/policies", security.list_policies),
    Operation(
        "iam.attach_policy",
        "POST",
        f"{_V1}/principals/{{principal}}/policies",
        security.attach_policy,
    ),
    Operation(
        "iam.detach_policy",
        "DELETE",
        f"{_V1}/principals/{{principal}}/policies/{{policy}}",
        security.detach_policy,
    ),
    Operation("audit.list_events", "GET", f"{_V1}/audit", security.list_audit_events),
    # contracts
    Operation(
        "contracts.suggest",
        "GET",
        f"{_V1}/datasets/{{dataset}}/contract-suggestion",
        contract_service.suggest,
    ),
    Operation("contracts.apply", "POST", f"{_V1}/contracts", contract_service.apply, 201),
    Operation("contracts.list", "GET", f"{_V1}/contracts", contract_service.list_contracts),
    Operation("contracts.get", "GET", f"{_V1}/contracts/{{name}}", contract_service.get),
    Operation(
        "contracts.validate",
        "POST",
        f"{_V1}/datasets/{{dataset}}/validations",
        contract_service.validate,
        201,
    ),
    Operation(
        "contracts.list_validations",
        "GET",
        f"{_V1}/datasets/{{dataset}}/validations",
        contract_service.list_validations,
    ),
    Operation(
        "contracts.get_validation",
        "GET",
        f"{_V1}/validations/{{report_id}}",
        contract_service.get_validation,
    ),
    Operation(
        "contracts.ingest",
        "POST",
        f"{_V1}/datasets/{{name}}/validated-versions",
        contract_service.ingest,
        201,
        raw_body="content",
    ),
    # datasets
    Operation(
        "datasets.ingest",
        "POST",
        f"{_V1}/datasets/{{name}}/versions",
        datasets.ingest,
        201,
        raw_body="content",
    ),
    Operation("datasets.list", "GET", f"{_V1}/datasets", datasets.list_datasets),
    Operation(
        "datasets.list_versions", "GET", f"{_V1}/datasets/{{name}}/versions", datasets.list_versions
    ),
    Operation("datasets.get", "GET", f"{_V1}/datasets/{{name}}", datasets.get_version),
    Operation("datasets.head", "GET", f"{_V1}/datasets/{{name}}/head", datasets.head),
    Operation("datasets.read", "GET", f"{_V1}/datasets/{{name}}/data", datasets.read),
    # tracking
    Operation(
        "tracking.create_experiment",
        "POST",
        f"{_V1}/experiments",
        tracking.create_experiment,
        201,
    ),
    Operation("tracking.list_experiments", "GET", f"{_V1}/experiments", tracking.list_experiments),
    Operation(
        "tracking.get_experiment", "GET", f"{_V1}/experiments/{{name}}", tracking.get_experiment
    ),
    Operation("tracking.create_run", "POST", f"{_V1}/runs", tracking.create_run, 201),
    Operation("tracking.list_runs", "GET", f"{_V1}/runs", tracking.list_runs),
    Operation("tracking.search_runs", "POST", f"{_V1}/runs/search", tracking.search_runs),
    Operation("tracking.get_run", "GET", f"{_V1}/runs/{{run_id}}", tracking.get_run),
    Operation("tracking.log_batch", "POST", f"{_V1}/runs/{{run_id}}/log", tracking.log_batch),
    Operation("tracking.end_run", "POST", f"{_V1}/runs/{{run_id}}/end", tracking.end_run),
    Operation("tracking.delete_run", "DELETE", f"{_V1}/runs/{{run_id}}", tracking.delete_run),
    Operation(
        "tracking.restore_run", "POST", f"{_V1}/runs/{{run_id}}/restore", tracking.restore_run
    ),
    Operation(
        "tracking.delete_tag", "DELETE", f"{_V1}/runs/{{run_id}}/tags/{{key}}", tracking.delete_tag
    ),
    Operation(
        "tracking.metric_history",
        "GET",
        f"{_V1}/runs/{{run_id}}/metrics/{{key}}",
        tracking.metric_history,
    ),
    Operation(
        "tracking.metric_series", "GET", f"{_V1}/runs/{{run_id}}/metrics", tracking.metric_series
    ),
    Operation(
        "tracking.log_artifact",
        "PUT",
        f"{_V1}/runs/{{run_id}}/artifacts",
        tracking.log_artifact,
        raw_body="content",
    ),
    Operation(
        "tracking.get_artifact",
        "GET",
        f"{_V1}/runs/{{run_id}}/artifact",
        tracking.get_artifact,
    ),
    # training jobs
    *_job_operations(
        "training",
        "training-jobs",
        jobs.create_training_job,
        jobs.list_training_jobs,
        jobs.get_training_job,
        jobs.cancel_training_job,
        jobs.read_training_log,
    ),
    Operation(
        "training.run_code", "POST", f"{_V1}/training-jobs/code", jobs.run_training_code, 201
    ),
    # registry
    Operation(
        "registry.register", "POST", f"{_V1}/models/{{name}}/versions", registry.register_model, 201
    ),
    Operation("registry.create_model", "POST", f"{_V1}/models", registry.create_model, 201),
    Operation("registry.list_models", "GET", f"{_V1}/models", registry.list_models),
    Operation("registry.get_model", "GET", f"{_V1}/models/{{name}}", registry.get_model),
    Operation(
        "registry.get_version", "GET", f"{_V1}/model-versions/{{ref}}", registry.get_model_version
    ),
    Operation(
        "registry.set_approval",
        "POST",
        f"{_V1}/models/{{name}}/versions/{{version}}/approval",
        registry.set_approval,
    ),
    Operation(
        "registry.approval_history",
        "GET",
        f"{_V1}/models/{{name}}/versions/{{version}}/approvals",
        registry.approval_history,
    ),
    Operation(
        "registry.set_alias", "PUT", f"{_V1}/models/{{name}}/aliases/{{alias}}", registry.set_alias
    ),
    Operation(
        "registry.delete_alias",
        "DELETE",
        f"{_V1}/models/{{name}}/aliases/{{alias}}",
        registry.delete_alias,
    ),
    Operation("registry.lineage", "GET", f"{_V1}/lineage", registry.lineage),
    # evaluation and gates
    Operation(
        "evaluation.evaluate",
        "POST",
        f"{_V1}/model-versions/{{ref}}/evaluations",
        evaluation_service.evaluate_model_version,
        201,
    ),
    Operation(
        "evaluation.list",
        "GET",
        f"{_V1}/model-versions/{{ref}}/evaluations",
        evaluation_service.list_evaluations,
    ),
    Operation(
        "evaluation.get",
        "GET",
        f"{_V1}/evaluations/{{evaluation_id}}",
        evaluation_service.get_evaluation,
    ),
    Operation(
        "evaluation.report",
        "GET",
        f"{_V1}/evaluations/{{evaluation_id}}/report",
        evaluation_service.get_evaluation_report,
    ),
    Operation(
        "evaluation.set_gate", "PUT", f"{_V1}/models/{{name}}/gate", evaluation_service.set_gate
    ),
    Operation(
        "evaluation.get_gate", "GET", f"{_V1}/models/{{name}}/gate", evaluation_service.get_gate
    ),
    Operation(
        "evaluation.delete_gate",
        "DELETE",
        f"{_V1}/models/{{name}}/gate",
        evaluation_service.delete_gate,
    ),
    # endpoints
    Operation(
        "endpoints.create", "POST", f"{_V1}/endpoints", endpoint_service.create_endpoint, 201
    ),
    Operation("endpoints.list", "GET", f"{_V1}/endpoints", endpoint_service.list_endpoints),
    Operation("endpoints.get", "GET", f"{_V1}/endpoints/{{name}}", endpoint_service.get_endpoint),
    Operation(
        "endpoints.update", "PATCH", f"{_V1}/endpoints/{{name}}", endpoint_service.update_endpoint
    ),
    Operation(
        "endpoints.delete", "DELETE", f"{_V1}/endpoints/{{name}}", endpoint_service.delete_endpoint
    ),
    Operation(
        "endpoints.set_weights",
        "PUT",
        f"{_V1}/endpoints/{{name}}/weights",
        endpoint_service.set_weights,
    ),
    Operation(
        "endpoints.add_variant",
        "POST",
        f"{_V1}/endpoints/{{name}}/variants",
        endpoint_service.add_variant,
        201,
    ),
    Operation(
        "endpoints.remove_variant",
        "DELETE",
        f"{_V1}/endpoints/{{name}}/variants/{{variant}}",
        endpoint_service.remove_variant,
    ),
    Operation(
        "endpoints.configure",
        "PATCH",
        f"{_V1}/endpoints/{{name}}/settings",
        endpoint_service.configure_endpoint,
    ),
    Operation(
        "endpoints.feedback",
        "POST",
        f"{_V1}/endpoints/{{name}}/feedback",
        endpoint_service.put_feedback,
    ),
    Operation(
        "endpoints.compare",
        "GET",
        f"{_V1}/endpoints/{{name}}/compare",
        endpoint_service.compare_variants,
    ),
    Operation(
        "endpoints.configure_bandit",
        "PUT",
        f"{_V1}/endpoints/{{name}}/bandit",
        endpoint_service.configure_bandit,
    ),
    Operation(
        "endpoints.bandit_step",
        "POST",
        f"{_V1}/endpoints/{{name}}/bandit/step",
        endpoint_service.bandit_step,
    ),
    # deployments
    Operation(
        "deployments.create",
        "POST",
        f"{_V1}/deployments",
        deploy_service.create_deployment,
        201,
    ),
    Operation("deployments.list", "GET", f"{_V1}/deployments", deploy_service.list_deployments),
    Operation(
        "deployments.get",
        "GET",
        f"{_V1}/deployments/{{deployment_id}}",
        deploy_service.get_deployment,
    ),
    Operation(
        "deployments.advance",
        "POST",
        f"{_V1}/deployments/{{deployment_id}}/advance",
        deploy_service.advance_deployment,
    ),
    Operation(
        "deployments.resume",
        "POST",
        f"{_V1}/deployments/{{deployment_id}}/resume",
        deploy_service.resume_deployment,
    ),
    Operation(
        "deployments.rollback",
        "POST",
        f"{_V1}/endpoints/{{endpoint}}/rollback",
        deploy_service.rollback_endpoint,
    ),
    # transforms
    Operation(
        "transforms.apply",
        "POST",
        f"{_V1}/transforms/{{name}}/versions",
        transform_service.apply_transform,
        201,
    ),
    Operation("transforms.list", "GET", f"{_V1}/transforms", transform_service.list_transforms),
    Operation(
        "transforms.get", "GET", f"{_V1}/transforms/{{name}}", transform_service.get_transform
    ),
    Operation(
        "transforms.run",
        "POST",
        f"{_V1}/transforms/{{name}}/runs",
        transform_service.run_transform,
        201,
    ),
    Operation(
        "transforms.list_runs",
        "GET",
        f"{_V1}/transforms/{{name}}/runs",
        transform_service.list_transform_runs,
    ),
    Operation(
        "transforms.lineage",
        "GET",
        f"{_V1}/dataset-lineage",
        transform_service.dataset_lineage,
    ),
    # streams
    Operation("streams.create", "POST", f"{_V1}/streams", stream_service.create_stream, 201),
    Operation("streams.list", "GET", f"{_V1}/streams", stream_service.list_streams),
    Operation("streams.get", "GET", f"{_V1}/streams/{{name}}", stream_service.get_stream),
    Operation(
        "streams.put_records",
        "POST",
        f"{_V1}/streams/{{name}}/records",
        stream_service.put_records,
    ),
    Operation(
        "streams.put_ndjson",
        "POST",
        f"{_V1}/streams/{{name}}/records/ndjson",
        stream_service.put_ndjson,
        raw_body="content",
    ),
    Operation(
        "streams.list_commits",
        "GET",
        f"{_V1}/streams/{{name}}/commits",
        stream_service.list_commits,
    ),
    Operation(
        "streams.list_rejections",
        "GET",
        f"{_V1}/streams/{{name}}/rejections",
        stream_service.list_rejections,
    ),
    # features
    Operation(
        "features.apply_view",
        "PUT",
        f"{_V1}/feature-views/{{name}}",
        feature_service.apply_view,
    ),
    Operation("features.list_views", "GET", f"{_V1}/feature-views", feature_service.list_views),
    Operation(
        "features.get_view", "GET", f"{_V1}/feature-views/{{name}}", feature_service.get_view
    ),
    Operation(
        "features.materialize",
        "POST",
        f"{_V1}/feature-views/{{name}}/materialize",
        feature_service.materialize,
    ),
    Operation(
        "features.retrieve",
        "POST",
        f"{_V1}/feature-retrievals",
        feature_service.retrieve,
        201,
    ),
    Operation(
        "features.get_online",
        "POST",
        f"{_V1}/online-features",
        feature_service.get_online_features,
    ),
    Operation(
        "features.put_endpoint_features",
        "PUT",
        f"{_V1}/endpoints/{{endpoint}}/features",
        feature_service.put_endpoint_features,
    ),
    Operation(
        "features.get_endpoint_features",
        "GET",
        f"{_V1}/endpoints/{{endpoint}}/features",
        feature_service.get_endpoint_features,
    ),
    Operation(
        "features.delete_endpoint_features",
        "DELETE",
        f"{_V1}/endpoints/{{endpoint}}/features",
        feature_service.delete_endpoint_features,
    ),
    # automl jobs
    *_job_operations(
        "automl",
        "automl-jobs",
        jobs.create_automl_job,
        jobs.list_automl_jobs,
        jobs.get_automl_job,
        jobs.cancel_automl_job,
        jobs.read_automl_log,
    ),
    Operation(
        "automl.leaderboard",
        "GET",
        f"{_V1}/automl-jobs/{{job_id}}/leaderboard",
        jobs.get_automl_leaderboard,
    ),
    # tuning jobs
    *_job_operations(
        "tuning",
        "tuning-jobs",
        jobs.create_tuning_job,
        jobs.list_tuning_jobs,
        jobs.get_tuning_job,
        jobs.cancel_tuning_job,
        jobs.read_tuning_log,
    ),
    Operation(
        "tuning.resume_job", "POST", f"{_V1}/tuning-jobs/{{job_id}}/resume", jobs.resume_tuning_job
    ),
    Operation(
        "tuning.list_trials", "GET", f"{_V1}/tuning-jobs/{{job_id}}/trials", jobs.list_tuning_trials
    ),
    Operation("tuning.best", "GET", f"{_V1}/tuning-jobs/{{job_id}}/best", jobs.best_tuning_trials),
    Operation(
        "tuning.register_best",
        "POST",
        f"{_V1}/tuning-jobs/{{job_id}}/register",
        jobs.register_best_trial,
        201,
    ),
    Operation("tuning.report", "GET", f"{_V1}/tuning-jobs/{{job_id}}/report", jobs.tuning_report),
    # batch transform
    *_job_operations(
        "batch",
        "batch-jobs",
        batch_service.create_batch_job,
        batch_service.list_batch_jobs,
        batch_service.get_batch_job,
        batch_service.cancel_batch_job,
        batch_service.read_batch_log,
    ),
    Operation(
        "batch.resume_job",
        "POST",
        f"{_V1}/batch-jobs/{{job_id}}/resume",
        batch_service.resume_batch_job,
    ),
    # edge export
    Operation(
        "edge.export",
        "POST",
        f"{_V1}/model-versions/{{ref}}/exports",
        edge_service.export_model,
        201,
    ),
    Operation(
        "edge.list", "GET", f"{_V1}/model-versions/{{ref}}/exports", edge_service.list_exports
    ),
    Operation("edge.get", "GET", f"{_V1}/edge-exports/{{export_id}}", edge_service.get_export),
    Operation(
        "edge.package",
        "GET",
        f"{_V1}/edge-exports/{{export_id}}/package",
        edge_service.get_package,
    ),
    *OPS_OPERATIONS,
    *CONSOLE_OPERATIONS,
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
