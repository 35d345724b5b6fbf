"""The sampler's view of a study: an in-memory copy in the job process, written through to
the shared study storage.

Asking and telling against the RDB storage costs a read per suggested parameter and a
commit per attribute; the sampler instead asks an in-memory study built from the stored
trials, and each trial is written to the storage once when asked (parameters, running)
and once when told (attributes, state). The stored study stays the record: trial tasks
report and prune against it, the API reads it, and a resumed job rebuilds its copy from it.
"""

from __future__ import annotations

from typing import Any

import optuna

from shipyard.tuning import TuningSpec
from shipyard.tuning._space import suggest
from shipyard.tuning._strategy import directions, sampler

FINAL = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)


class AskedTrial:
    """A trial asked of the copy, with its id and number in the stored study."""

    def __init__(self, local: optuna.Trial, stored_id: int, number: int) -> None:
        self.local, self.stored_id, self.number = local, stored_id, number
        self.params: dict[str, Any] = dict(local.params)


class StudyMirror:
    def __init__(self, stored: optuna.Study, spec: TuningSpec) -> None:
        self.stored, self.spec = stored, spec
        self.storage = stored._storage
        self.local = optuna.create_study(sampler=sampler(spec), directions=directions(spec))
        for trial in stored.get_trials(deepcopy=False, states=FINAL):
            self.local.add_trial(trial)

    def enqueue(self, params: dict[str, Any], attrs: dict[str, Any]) -> None:
        """Parameters to ask first (trials to retry, warm-start seeds)."""
        self.local.enqueue_trial(params, user_attrs=attrs)

    def ask(self) -> AskedTrial:
        local = self.local.ask()
        params = suggest(local, self.spec)
        template = optuna.trial.create_trial(
            state=optuna.trial.TrialState.RUNNING,
            params=params,
            distributions={k: local.distributions[k] for k in params},
            user_attrs=dict(local.user_attrs),
        )
        stored_id = self.storage.create_new_trial(self.stored._study_id, template_trial=template)
        return AskedTrial(local, stored_id, self.storage.get_trial_number_from_id(stored_id))

    def tell(
        self,
        trial: AskedTrial,
        state: optuna.trial.TrialState,
        values: list[float] | None,
        attrs: dict[str, Any],
        intermediate: dict[int, float] | None = None,
    ) -> None:
        """Record the outcome in the storage, then in the copy (the sampler's next asks)."""
        for key, value in attrs.items():
            self.storage.set_trial_user_attr(trial.stored_id, key, value)
        steps = intermediate or {}
        if state == optuna.trial.TrialState.PRUNED and values is None and steps:
            values = [steps[max(steps)]]
        self.storage.set_trial_state_values(trial.stored_id, state, values)
        if len(self.spec.goals) == 1:
            for step, value in sorted(steps.items()):
                trial.local.report(value, step)
        try:
            if state == optuna.trial.TrialState.COMPLETE:
                self.local.tell(trial.local, values)
            else:
                self.local.tell(trial.local, state=state)
        except RuntimeError as error:  # the grid sampler's study.stop() outside optimize
            if "Study.stop" not in str(error):
                raise
