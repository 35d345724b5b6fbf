"""Guarded deployments in the SDK: roll out (driving the controller here or in a worker)."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from typing import Any

from shipyard.client._group import _Group
from shipyard.schemas.deploy import TICK_SECONDS, DeploymentEvent, DeploymentInfo

OnEvent = Callable[[DeploymentEvent], None]
OnProgress = Callable[[DeploymentInfo], None]


class Deployments(_Group):
    def deploy(
        self,
        endpoint: str,
        model: str,
        *,
        strategy: str = "canary",
        canary_percent: float = 10.0,
        step_percent: float = 25.0,
        bake: float | str = "60s",
        rollback_on: str = "",
        variant: str | None = None,
        runtime: str = "native",
        health_timeout: float | str = "60s",
        min_requests: int = 50,
        alarm_periods: int = 1,
        alarm_datapoints: int | None = None,
        alarm_period: float | str = "10s",
        alarm_missing: str = "not_breaching",
        wait: bool = True,
        on_event: OnEvent | None = None,
        on_progress: OnProgress | None = None,
    ) -> DeploymentInfo:
        """Roll ``model`` out onto ``endpoint`` in baked steps, rolling back if an alarm trips
        (on ``alarm_datapoints`` of ``alarm_periods`` datapoints of at least ``min_requests``).

        With ``wait`` this call drives the controller until the rollout ends
        (succeeded, rolled_back or failed) and returns it; otherwise a worker
        process drives it and this returns at once.
        """
        info = self._create(
            endpoint,
            model,
            strategy=strategy,
            canary_percent=canary_percent,
            step_percent=step_percent,
            bake=bake,
            rollback_on=rollback_on,
            variant=variant,
            runtime=runtime,
            health_timeout=health_timeout,
            min_requests=min_requests,
            alarm_periods=alarm_periods,
            alarm_datapoints=alarm_datapoints,
            alarm_period=alarm_period,
            alarm_missing=alarm_missing,
            background=not wait,
        )
        if not wait:
            return info
        if on_event:
            for entry in info.history:
                on_event(entry)
        return self.drive(
            info.id, on_event=on_event, on_progress=on_progress, seen=len(info.history)
        )

    def start(self, endpoint: str, model: str, **options: Any) -> DeploymentInfo:
        """Start a rollout that the caller ticks with ``advance`` (or ``drive``); same options."""
        return self._create(endpoint, model, background=False, **options)

    def _create(self, endpoint: str, model: str, **options: Any) -> DeploymentInfo:
        return DeploymentInfo.model_validate(
            self._t.call("deployments.create", endpoint=endpoint, model=model, **options)
        )

    def drive(
        self,
        deployment_id: str,
        *,
        on_event: OnEvent | None = None,
        on_progress: OnProgress | None = None,
        seen: int = 0,
    ) -> DeploymentInfo:
        """Tick a rollout until it ends (each tick may shift traffic or roll back)."""
        return self._loop("deployments.advance", deployment_id, on_event, on_progress, seen)

    def follow(
        self,
        deployment_id: str,
        *,
        on_event: OnEvent | None = None,
        on_progress: OnProgress | None = None,
        seen: int = 0,
    ) -> DeploymentInfo:
        """Watch a rollout someone else drives until it ends."""
        return self._loop("deployments.get", deployment_id, on_event, on_progress, seen)

    def _loop(
        self,
        operation: str,
        deployment_id: str,
        on_event: OnEvent | None,
        on_progress: OnProgress | None,
        seen: int,
    ) -> DeploymentInfo:
        while True:
            info = DeploymentInfo.model_validate(
                self._t.call(operation, deployment_id=deployment_id)
            )
            if on_event:
                for entry in info.history[seen:]:
                    on_event(entry)
            seen = len(info.history)
            if on_progress:
                on_progress(info)
            if info.done:
                return info
            time.sleep(TICK_SECONDS)

    def get(self, deployment_id: str) -> DeploymentInfo:
        return DeploymentInfo.model_validate(
            self._t.call("deployments.get", deployment_id=deployment_id)
        )

    def list(self, endpoint: str | None = None, limit: int = 50) -> builtins.list[DeploymentInfo]:
        return [
            DeploymentInfo.model_validate(d)
            for d in self._t.call("deployments.list", endpoint=endpoint, limit=limit)
        ]

    def advance(self, deployment_id: str) -> DeploymentInfo:
        """One controller tick."""
        return DeploymentInfo.model_validate(
            self._t.call("deployments.advance", deployment_id=deployment_id)
        )

    def resume(
        self,
        deployment_id: str,
        *,
        wait: bool = False,
        force: bool = False,
        on_event: OnEvent | None = None,
        on_progress: OnProgress | None = None,
    ) -> DeploymentInfo:
        """Take over a rollout whose controller stopped: in a worker, or (``wait``) here.

        ``force`` takes it over even if its controller ticked in the last 15 s.
        """
        info = DeploymentInfo.model_validate(
            self._t.call(
                "deployments.resume",
                deployment_id=deployment_id,
                background=not wait,
                force=force,
            )
        )
        if not wait:
            return info
        return self.drive(deployment_id, on_event=on_event, on_progress=on_progress)

    def rollback(self, endpoint: str) -> DeploymentInfo:
        """Back to the previous configuration at once (stops a running rollout)."""
        return DeploymentInfo.model_validate(
            self._t.call("deployments.rollback", endpoint=endpoint)
        )
