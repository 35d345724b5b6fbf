"""The automl kind's work in the job process: search, refit, store, register, succeed.

The budget runs from the job's submission: the search stops early enough to leave
its winner's refit (estimated from its fold fits) and a tail for storing and
registering. The winner's model, its leaderboard and (when asked) its registration
are recorded with the job's success in one transaction, so a job stopped meanwhile
registers nothing.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson
import pyarrow.compute as pc

from shipyard.clock import utcnow
from shipyard.datasets import load_version_table
from shipyard.errors import JobFailed
from shipyard.flavors import SavedModel, ValidationRows, load_predictor
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._automl_trials import TrialRecorder
from shipyard.registry import register_in_session, store_saved_model
from shipyard.security import context_for
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, start_run, store_artifact, write_batch

LEADERBOARD_ARTIFACT = "automl/leaderboard.json"
TAIL_SECONDS = 1.5
TAIL_SHARE = 0.03
"""Kept after the search and refit for storing, checking and registering the winner."""


def run(job: JobAttempt) -> None:
    """Run one automl job to completion and record the outcome."""
    from shipyard.automl._run import run_search
    from shipyard.automl._scoring import default_metric

    platform = job.platform
    with platform.db.session() as session:
        automl = session.get(j.AutoMLJob, job.id)
        row = session.get(j.Job, job.id)
        assert automl is not None and row is not None
        spec: dict[str, Any] = dict(automl.spec)
        version = session.get(t.DatasetVersion, automl.dataset_version_id)
        assert version is not None
        budget = float(spec["budget_seconds"])
        deadline = time.monotonic() + budget - (utcnow() - row.created_at).total_seconds()
        cpus = int((row.limits or {}).get("cpus") or 1)
        run_row = start_run(
            session,
            experiment=spec["experiment"],
            principal=job.principal,
            name=row.name,
            tags={"shipyard.job": job.id, "automl.target": spec["target"]},
        )
        session.add(t.RunInput(run_id=run_row.id, dataset_version_id=version.id))
        job.attach_run(session, run_row.id)
        run_id = run_row.id
    job.log(
        f"job {job.id}: automl on {spec['dataset']}, target {spec['target']!r}, budget {budget:g} s"
    )
    table = load_version_table(platform, version)
    target = table.column(spec["target"])
    classes = pc.count_distinct(target).as_py() if spec["task"] == "classification" else 0
    metric = spec["metric"] or default_metric(spec["task"], classes)
    recorder = TrialRecorder(job, run_id, spec["experiment"], metric, budget)
    outcome = run_search(
        table,
        spec["target"],
        spec["task"],
        metric=metric,
        deadline=deadline,
        tail_seconds=TAIL_SECONDS + TAIL_SHARE * budget,
        budget_seconds=budget,
        folds=int(spec["folds"]),
        seed=int(spec["seed"]),
        n_jobs=cpus,
        ensemble=bool(spec["ensemble"]),
        on_trial=recorder.record,
        say=job.log,
    )
    recorder.flush()
    board = outcome.leaderboard
    board.budget_seconds = budget
    job.progress(0.96, f"winner {board.winner}: storing and checking the model")
    saved = _saved_model(outcome)
    job.log(f"stored as {saved.flavor} ({len(saved.model_bytes)} bytes), checked")
    winner = next(e for e in board.entries if e.winner)
    winner.model_bytes = len(saved.model_bytes)
    with platform.db.session() as session:
        points = [
            MetricPoint(key=metric, value=winner.score),
            MetricPoint(key=f"{metric}_std", value=winner.score_std),
            MetricPoint(key="trials", value=float(board.trials)),
            MetricPoint(key="search_seconds", value=board.search_seconds),
        ]
        params = {"winner": winner.family, "estimator": winner.estimator}
        params |= {f"winner.{k}": str(v)[:500] for k, v in winner.params.items()}
        write_batch(session, run_id, points, params, {})
        store_saved_model(platform, session, run_id, saved)
        job.log("model stored in the run")
        finished = session.get(t.Run, run_id)
        assert finished is not None
        finished.status, finished.end_time = "finished", utcnow()
        session.flush()
        if spec.get("register"):
            # registry:RegisterModel on this name was checked when the job was created
            ctx = context_for(platform, job.principal)
            version_info = register_in_session(ctx, session, spec["register"], run_id)
            board.registered = f"{version_info.name}@{version_info.version}"
            job.log(f"registered {board.registered}")
        document = board.model_dump(mode="json")
        store_artifact(platform, session, run_id, LEADERBOARD_ARTIFACT, orjson.dumps(document))
        automl_row = session.get(j.AutoMLJob, job.id)
        assert automl_row is not None
        automl_row.leaderboard = document
        message = f"winner {winner.family}: {metric}={winner.score:.5g} ± {winner.score_std:.3g}"
        if board.registered:
            message += f"; registered {board.registered}"
        job.succeed(session, message)
    job.log(f"run {run_id} finished: {message}")


def _saved_model(outcome: Any) -> SavedModel:
    """The winner in its flavor's safe format, loaded back as serving would and required
    to reproduce the fitted model's outputs on the validation rows."""
    from shipyard.automl._evaluate import model_output
    from shipyard.flavors import artifact_digest, save_model
    from shipyard.training import validation_parquet
    from shipyard.training._validation import validation_rows, validation_table

    data = outcome.data
    flavor, model_bytes = save_model(outcome.model)
    rows = validation_rows(np.arange(data.rows), 0)
    predictor = load_predictor(
        flavor, model_bytes, data.signature, expected_digest=artifact_digest(model_bytes)
    )
    native = flavor != "sklearn"
    features = data.features(native).rows(rows)
    prediction = predictor.predict(features)
    served = prediction.predictions if data.classes is None else prediction.probabilities
    trained = model_output(outcome.model, native, data, rows)
    if (
        served is None
        or served.shape != trained.shape
        or not np.allclose(served, trained, rtol=1e-5, atol=1e-6)
    ):
        raise JobFailed(f"the stored {flavor} model does not reproduce the fitted model")
    validation = validation_table(data.table, data.signature, data.signature.target or "", rows)
    parquet = validation_parquet(validation)
    return SavedModel(
        flavor,
        model_bytes,
        data.signature,
        validation=ValidationRows(parquet, validation.num_rows, "all"),
    )
