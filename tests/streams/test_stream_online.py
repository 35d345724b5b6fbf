"""A stream that names a feature view keeps the online store current as records arrive."""

from __future__ import annotations

import pytest
from streamkit import record, spec

from shipyard.errors import InvalidInput
from shipyard.features import apply_view, get_online_features
from shipyard.security import RequestContext
from shipyard.streams import StreamSpec, consume, create_stream, put_records


def test_each_commit_updates_the_online_store(admin: RequestContext) -> None:
    create_stream(admin, StreamSpec.model_validate(spec("pay")))
    put_records(admin, "pay", [record(i) for i in range(10)])
    consume(admin, "pay", idle_exit=0.3)
    view = {"source": "pay", "entities": ["user"], "event_time": "at", "features": ["amount"]}
    apply_view(admin, "spend", view)
    create_stream(admin, StreamSpec.model_validate(spec("pay", online_view="spend")))

    put_records(admin, "pay", [record(i) for i in range(10, 21)])
    consume(admin, "pay", idle_exit=0.3)
    online = get_online_features(admin, ["spend:amount"], [{"user": "u3"}, {"user": "u6"}])
    assert [row["spend__amount"] for row in online.rows] == [17 * 0.5, 20 * 0.5]

    put_records(admin, "pay", [record(3) | {"id": 99, "amount": 1.0}])  # older event time
    consume(admin, "pay", idle_exit=0.3)
    online = get_online_features(admin, ["spend:amount"], [{"user": "u3"}])
    assert online.rows[0]["spend__amount"] == 17 * 0.5


def test_a_view_over_another_dataset_is_refused(admin: RequestContext) -> None:
    create_stream(admin, StreamSpec.model_validate(spec("a")))
    put_records(admin, "a", [record(1)])
    consume(admin, "a", idle_exit=0.3)
    view = {"source": "a", "entities": ["user"], "event_time": "at", "features": ["amount"]}
    apply_view(admin, "v", view)
    create_stream(admin, StreamSpec.model_validate(spec("b", online_view="v")))
    with pytest.raises(InvalidInput, match="reads dataset 'a', but stream 'b' writes 'b'"):
        consume(admin, "b", idle_exit=0.3)
