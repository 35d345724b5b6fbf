"""The data plane's audit buffer: bounded, never blocking, and honest about what it dropped."""

from __future__ import annotations

from shipyard.serving._audit import AUDITOR, DROP_ACTION, AuditBuffer, AuditRecord


def _record(i: int) -> AuditRecord:
    return AuditRecord("anonymous", "endpoints:Invoke", "sy:endpoint/e", "denied", f"r{i}")


def test_a_full_buffer_drops_counts_and_reports_the_drops_in_the_trail() -> None:
    buffer = AuditBuffer(3, "sy:endpoint/e")
    for i in range(5):
        buffer.offer(_record(i))
    assert (len(buffer), buffer.dropped) == (3, 2)
    drained = buffer.drain()
    assert [r.request_id for r in drained[:3]] == ["r0", "r1", "r2"]
    note = drained[3]
    assert (note.principal, note.action, note.resource) == (AUDITOR, DROP_ACTION, "sy:endpoint/e")
    assert note.detail["dropped"] == 2
    assert buffer.drain() == []  # each drop is reported once
    assert buffer.dropped == 2  # the metric keeps counting


def test_a_failed_write_puts_events_back_in_order_within_capacity() -> None:
    buffer = AuditBuffer(3, "sy:endpoint/e")
    for i in range(4):
        buffer.offer(_record(i))
    failed = buffer.drain()
    buffer.offer(_record(9))
    buffer.requeue(failed)
    again = buffer.drain()
    assert [r.request_id for r in again if r.action != DROP_ACTION] == ["r0", "r1", "r9"]
    assert again[-1].detail["dropped"] == 1 + 1  # the first drop, and r2: no room to put back
