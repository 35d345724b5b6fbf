"""Steps that start jobs of the job system and follow them: train (a spec, or own code
with ``entrypoint``), own code, tune, AutoML, batch transform."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput
from shipyard.pipelines._step_base import StepKind, StepRun, call, op_accesses
from shipyard.security import Access


def _code_files(step: StepRun) -> dict[str, str]:
    """The pipeline's ``.py`` files, as own-code training takes them."""
    return {
        path: step.platform.blobs.get_bytes(digest).decode("utf-8")
        for path, digest in step.files.items()
        if path.endswith(".py")
    }


def _declare_train(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import jobs

    if "entrypoint" in config:
        return op_accesses(jobs.run_training_code, session, {"spec": config, "files": {}})
    return op_accesses(jobs.create_training_job, session, {"spec": config})


def _run_train(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """A training job of the spec (``entrypoint``: the pipeline's own code), followed to
    its end; its run is the output."""
    from shipyard import jobs

    if "entrypoint" in config:
        info: Any = jobs.run_training_code(step.ctx, config, _code_files(step))
    else:
        info = jobs.create_training_job(step.ctx, config)
    done = step.wait(info, jobs.get_training_job)
    return {"run": done.run_id, "job": done.id}


def _declare_code(session: Session, config: dict[str, Any]) -> list[Access]:
    if "entrypoint" not in config:
        raise InvalidInput(
            "an own-code step names its entrypoint (file.py:function)", field="with.entrypoint"
        )
    return _declare_train(session, config)


def _run_code(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's own function, run as own-code training runs (a job of its own, a
    run with its code stored); a model it logs can be registered by a later step."""
    if "entrypoint" not in config:
        raise InvalidInput(
            "an own-code step names its entrypoint (file.py:function)", field="with.entrypoint"
        )
    return _run_train(step, config)


def _declare_tune(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import jobs

    return op_accesses(jobs.create_tuning_job, session, {"spec": config})


def _run_tune(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    from shipyard import jobs

    files = _code_files(step) if "entrypoint" in dict(config.get("training") or {}) else None
    done = step.wait(jobs.create_tuning_job(step.ctx, config, files), jobs.get_tuning_job)
    return {"run": _best_run(step, done.run_id), "job": done.id}


def _best_run(step: StepRun, run_id: str | None) -> str | None:
    """The best trial's run (tagged on the tuning job's run)."""
    from shipyard.store.metadata import tables as t

    if run_id is None:
        return None
    with step.platform.db.session() as session:
        tag = session.get(t.RunTag, (run_id, "shipyard.tuning.best_runs"))
        return tag.value.split(",")[0] if tag is not None else run_id


def _declare_automl(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import jobs

    return op_accesses(jobs.create_automl_job, session, dict(config))


def _run_automl(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    from shipyard import jobs

    done = step.wait(call(jobs.create_automl_job, step.ctx, dict(config)), jobs.get_automl_job)
    registered = getattr(done, "registered", None)
    return {"run": done.run_id, "job": done.id, "model_version": registered}


def _declare_batch(session: Session, config: dict[str, Any]) -> list[Access]:
    from shipyard import batch

    return op_accesses(batch.create_batch_job, session, dict(config))


def _run_batch(step: StepRun, config: dict[str, Any]) -> dict[str, Any]:
    from shipyard import batch

    done = step.wait(call(batch.create_batch_job, step.ctx, dict(config)), batch.get_batch_job)
    return {"job": done.id, "dataset": getattr(done, "output_version", None)}


def _run_out(outputs: dict[str, Any]) -> list[tuple[str, str]]:
    found = [("job", str(outputs["job"]))]
    if outputs.get("run"):
        found.append(("run", str(outputs["run"])))
    if outputs.get("model_version"):
        found.append(("model-version", str(outputs["model_version"])))
    if outputs.get("dataset"):
        found.append(("dataset-version", str(outputs["dataset"])))
    return found


TRAIN_STEPS = (
    StepKind("train", _run_train, _declare_train, _run_out, code=True),
    StepKind("code", _run_code, _declare_code, _run_out, code=True),
    StepKind("tune", _run_tune, _declare_tune, _run_out, code=True),
    StepKind("automl", _run_automl, _declare_automl, _run_out),
    StepKind("batch", _run_batch, _declare_batch, _run_out),
)
