"""Run under the MLflow client's venv: log into Shipyard as an MLflow user would.

Reads its arguments as JSON on stdin (url, token, denied_token, work, model_dir,
pickle_dir) and prints what it saw as one JSON line; the test asserts on it.
"""

import json
import os
import sys
import time
from pathlib import Path

import lightgbm
import mlflow
import mlflow.lightgbm
import mlflow.sklearn
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


def failure(call):
    try:
        call()
    except MlflowException as error:
        return {
            "code": error.error_code,
            "status": error.get_http_status_code(),
            "message": error.message,
        }
    return None


args = json.loads(sys.stdin.read())
os.environ["MLFLOW_TRACKING_TOKEN"] = args["token"]
mlflow.set_tracking_uri(args["url"])
work = Path(args["work"])
client = MlflowClient()
out = {}

experiment_id = mlflow.create_experiment("mlflow-client")
out["experiment_id"] = experiment_id
out["duplicate_experiment"] = failure(lambda: mlflow.create_experiment("mlflow-client"))
mlflow.set_experiment("mlflow-client")
out["experiment_by_id"] = client.get_experiment(experiment_id).name

now = int(time.time() * 1000)
with mlflow.start_run(run_name="parent") as parent:
    parent_id = parent.info.run_id
    mlflow.log_params({"alpha": "0.5", "depth": 3})
    mlflow.log_metric("loss", 1.0, step=0)
    mlflow.log_metric("loss", 0.25, step=1)
    client.log_batch(
        parent_id,
        metrics=[Metric("auc", 0.5 + 0.1 * i, now + i, i) for i in range(4)],
        params=[Param("batch", "yes")],
        tags=[RunTag("team", "a")],
    )
    mlflow.set_tag("stage", "dev")
    mlflow.set_tag("scratch", "gone")
    client.delete_tag(parent_id, "scratch")
    with mlflow.start_run(run_name="child", nested=True) as child:
        child_id = child.info.run_id
        mlflow.log_metric("child_metric", 3.0)
    (work / "notes.txt").write_text("hello shipyard")
    mlflow.log_artifact(str(work / "notes.txt"))
    outputs = work / "outputs"
    (outputs / "sub").mkdir(parents=True)
    (outputs / "a.csv").write_text("x\n1\n")
    (outputs / "sub" / "b.json").write_text('{"b": 1}')
    mlflow.log_artifacts(str(outputs), artifact_path="outputs")
    mlflow.log_artifacts(args["model_dir"], artifact_path="model")

run = client.get_run(parent_id)
out["parent"] = {
    "status": run.info.status,
    "name": run.info.run_name,
    "experiment_id": run.info.experiment_id,
    "params": run.data.params,
    "metrics": run.data.metrics,
    "tags": run.data.tags,
    "artifact_uri": run.info.artifact_uri,
}
out["child_parent_tag"] = client.get_run(child_id).data.tags.get("mlflow.parentRunId")
out["search"] = [r.info.run_id for r in client.search_runs([experiment_id])]
first = client.search_runs([experiment_id], max_results=1)
second = client.search_runs([experiment_id], max_results=1, page_token=first.token)
out["pages"] = [[r.info.run_id for r in first], [r.info.run_id for r in second]]
out["filtered"] = [
    r.info.run_id
    for r in client.search_runs(
        [experiment_id], "metrics.auc > 0.5 and params.depth = '3'", order_by=["metrics.auc DESC"]
    )
]
out["children"] = [
    r.info.run_id
    for r in client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{parent_id}'")
]
out["bad_filter"] = failure(lambda: client.search_runs([experiment_id], "metrics.auc >> 1"))
out["history"] = [[m.step, m.value] for m in client.get_metric_history(parent_id, "auc")]
out["listed"] = [f.path for f in client.list_artifacts(parent_id)]
out["listed_outputs"] = [[f.path, f.is_dir] for f in client.list_artifacts(parent_id, "outputs")]
downloaded = Path(
    mlflow.artifacts.download_artifacts(
        run_id=parent_id, artifact_path="outputs", dst_path=str(work / "down")
    )
)
out["downloaded"] = sorted(
    str(p.relative_to(downloaded)) for p in downloaded.rglob("*") if p.is_file()
)
out["downloaded_b"] = (downloaded / "sub" / "b.json").read_text()
notes = mlflow.artifacts.download_artifacts(
    run_id=parent_id, artifact_path="notes.txt", dst_path=str(work / "down-notes")
)
out["notes"] = Path(notes).read_text()

version = mlflow.register_model(f"runs:/{parent_id}/model", "mlflow-model")
client.set_registered_model_alias("mlflow-model", "champion", version.version)
got = client.get_model_version("mlflow-model", version.version)
by_alias = client.get_model_version_by_alias("mlflow-model", "champion")
model = client.get_registered_model("mlflow-model")
out["registered"] = {
    "version": version.version,
    "run_id": got.run_id,
    "status": got.status,
    "alias_version": by_alias.version,
    "aliases": model.aliases,
    "latest": [v.version for v in client.get_latest_versions("mlflow-model")],
    "searched": [v.version for v in client.search_model_versions("name = 'mlflow-model'")],
}

with mlflow.start_run(run_name="pickled") as pickled:
    mlflow.log_artifacts(args["pickle_dir"], artifact_path="model")
out["pickled_listed"] = [f.path for f in client.list_artifacts(pickled.info.run_id, "model")]
out["pickled"] = failure(
    lambda: mlflow.register_model(f"runs:/{pickled.info.run_id}/model", "pickled-model")
)
out["pickled_versions"] = [
    v.version for v in client.get_registered_model("pickled-model").latest_versions
]


def log_flavor(flavor, model, run_name, **options):
    """log_model through MLflow 3's logged models; register it both ways; download it."""
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_metric("accuracy", 0.9)
        info = flavor.log_model(model, name="model", input_example=x[:2], **options)
    logged = client.get_logged_model(info.model_id)
    down = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{info.model_id}", dst_path=str(work / run_name)
        )
    )
    searched = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string="name = 'model'",
        output_format="list",
    )
    return {
        "model_id": info.model_id,
        "run_id": run.info.run_id,
        "status": str(logged.status),
        "source_run_id": logged.source_run_id,
        "artifact_location": logged.artifact_location,
        "outputs": [o.model_id for o in client.get_run(run.info.run_id).outputs.model_outputs],
        "metric_history": len(client.get_metric_history(run.info.run_id, "accuracy")),
        "listed": sorted(f.path for f in client.list_artifacts(run.info.run_id, "model")),
        "downloaded": sorted(str(p.relative_to(down)) for p in down.rglob("*") if p.is_file()),
        "searched": [m.model_id for m in searched],
        "by_id": failure(lambda: mlflow.register_model(f"models:/{info.model_id}", run_name)),
        "by_run": failure(
            lambda: mlflow.register_model(f"runs:/{run.info.run_id}/model", run_name)
        ),
        "versions": [v.version for v in client.get_registered_model(run_name).latest_versions],
    }


x, y = load_iris(return_X_y=True)
classifier = LogisticRegression(max_iter=300).fit(x, y)
out["sklearn"] = log_flavor(
    mlflow.sklearn, classifier, "sklearn-model", serialization_format="cloudpickle"
)
out["sklearn_skops"] = log_flavor(mlflow.sklearn, classifier, "sklearn-skops")
out["lightgbm"] = log_flavor(
    mlflow.lightgbm,
    lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(x, y),
    "lightgbm-model",
    serialization_format="cloudpickle",
)
out["outside_run"] = failure(lambda: mlflow.sklearn.log_model(LogisticRegression(), name="m"))

doomed = client.create_run(experiment_id).info.run_id
client.set_terminated(doomed)
client.delete_run(doomed)
out["deleted"] = {
    "stage": client.get_run(doomed).info.lifecycle_stage,
    "active": [r.info.run_id for r in client.search_runs([experiment_id])].count(doomed),
    "deleted": [
        r.info.run_id
        for r in client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    ],
}
client.restore_run(doomed)
out["restored"] = {
    "stage": client.get_run(doomed).info.lifecycle_stage,
    "active": [r.info.run_id for r in client.search_runs([experiment_id])].count(doomed),
    "run_id": doomed,
}

os.environ["MLFLOW_TRACKING_TOKEN"] = args["denied_token"]
out["denied_get"] = failure(lambda: MlflowClient().get_run(parent_id))
out["denied_logged_model"] = failure(
    lambda: MlflowClient().get_logged_model(out["sklearn"]["model_id"])
)
out["denied_create"] = failure(lambda: MlflowClient().create_experiment("not-mine"))
del os.environ["MLFLOW_TRACKING_TOKEN"]
out["anonymous"] = failure(lambda: MlflowClient().get_run(parent_id))
print(json.dumps(out))
