"""NATS JetStream: a durable pull-consumer source acknowledged after commit, and a producer.

Each message's data is the record as JSON; its partition key travels in the
``Shipyard-Key`` header. nats-py is asyncio-only, so each object drives its own
event loop from synchronous calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from shipyard.errors import StorageError
from shipyard.streams._source import Message, StreamProducer, StreamSource

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.js.client import JetStreamContext

KEY_HEADER = "Shipyard-Key"
_PUBLISH_CHUNK = 1_000
_MAX_ACK_PENDING = 1_000_000
T = TypeVar("T")


class _JetStream:
    """A connection to one JetStream stream, run on a private event loop."""

    def __init__(self, url: str, stream: str, subject: str) -> None:
        import nats

        self.url, self.stream, self.subject = url, stream, subject
        self._loop = asyncio.new_event_loop()
        try:
            self.client: NatsClient = self.run(
                nats.connect(url, connect_timeout=5, max_reconnect_attempts=5)
            )
        except BaseException:
            self._loop.close()
            raise
        self.context: JetStreamContext = self.client.jetstream()
        self.run(self._ensure_stream())

    def run(self, work: Awaitable[T]) -> T:
        import nats.errors

        try:
            return self._loop.run_until_complete(work)
        except (nats.errors.Error, OSError) as error:
            raise StorageError(f"NATS at {self.url} failed: {error!r}") from None

    async def _ensure_stream(self) -> None:
        import nats.js.errors

        try:
            await self.context.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self.context.add_stream(name=self.stream, subjects=[self.subject])

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self.client.close())
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()


class JetStreamSource(StreamSource):
    """A durable pull consumer; unacknowledged messages come back after ``ack_wait_seconds``."""

    def __init__(
        self, url: str, stream: str, subject: str, durable: str, *, ack_wait_seconds: float = 30.0
    ) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig

        self._js = _JetStream(url, stream, subject)
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait_seconds,
            max_ack_pending=_MAX_ACK_PENDING,
        )
        try:
            self._sub = self._js.run(
                self._js.context.pull_subscribe(
                    subject, durable=durable, stream=stream, config=config
                )
            )
        except BaseException:
            self._js.close()
            raise

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        async def fetch() -> list[Any]:
            try:
                return await self._sub.fetch(batch=max_messages, timeout=max(timeout, 0.01))
            except TimeoutError:
                return []

        return [_message(self._js.stream, m) for m in self._js.run(fetch())]

    def commit(self, messages: Sequence[Message]) -> None:
        async def ack() -> None:
            for message in messages:
                await message.handle.ack()  # type: ignore[attr-defined]
            await self._js.client.flush()

        self._js.run(ack())

    def close(self) -> None:
        self._js.close()


def _message(stream: str, msg: Any) -> Message:
    headers = msg.headers or {}
    return Message(
        offset=str(msg.metadata.sequence.stream),
        partition=stream,
        key=headers.get(KEY_HEADER),
        value=msg.data,
        handle=msg,
    )


class JetStreamProducer(StreamProducer):
    """Publishes records to ``subject`` and waits for JetStream to store each one."""

    def __init__(self, url: str, stream: str, subject: str) -> None:
        self._js = _JetStream(url, stream, subject)

    def publish(self, records: Sequence[tuple[str | None, bytes]]) -> list[str]:
        async def send() -> list[str]:
            offsets: list[str] = []
            for start in range(0, len(records), _PUBLISH_CHUNK):
                acks = await asyncio.gather(
                    *(
                        self._js.context.publish(
                            self._js.subject,
                            value,
                            headers={KEY_HEADER: key} if key is not None else None,
                        )
                        for key, value in records[start : start + _PUBLISH_CHUNK]
                    )
                )
                offsets.extend(str(a.seq) for a in acks)
            return offsets

        return self._js.run(send())

    def close(self) -> None:
        self._js.close()
