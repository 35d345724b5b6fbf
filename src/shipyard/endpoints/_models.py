"""What the endpoint service returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class EndpointInfo(BaseModel):
    """A real-time endpoint and the model version it serves."""

    name: str
    model_ref: str
    model: str
    model_version: int
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:endpoint/{self.name}"
