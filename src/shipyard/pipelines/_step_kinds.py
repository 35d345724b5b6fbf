"""Every step kind, by name."""

from __future__ import annotations

from shipyard.pipelines._step_base import StepKind
from shipyard.pipelines._steps_data import DATA_STEPS
from shipyard.pipelines._steps_model import MODEL_STEPS
from shipyard.pipelines._steps_monitor import MONITOR_STEPS
from shipyard.pipelines._steps_train import TRAIN_STEPS

STEP_KINDS: dict[str, StepKind] = {
    k.name: k for k in (*DATA_STEPS, *TRAIN_STEPS, *MODEL_STEPS, *MONITOR_STEPS)
}
