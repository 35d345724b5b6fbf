"""``shipyard encryption``: the blob store's key-encryption keys on this machine.

``status`` reads this machine's home (its key files and its blob store), as ``shipyard
init`` does; ``rotate`` is an audited operation, in-process on this home or, with --url, by
the server on its own store. A KEK never leaves the machine (or KMS) that holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.store.blobs import BlobStore

app = typer.Typer(no_args_is_help=True, help="Encryption at rest: status and KEK rotation.")


def _store() -> BlobStore:
    from shipyard.store.blobs import open_blob_store

    if STATE.url:
        raise InvalidInput(
            "encryption commands act on this machine's home; run them without --url",
            field="url",
        )
    settings = STATE.settings
    return open_blob_store(
        settings.blobs_url,
        storage_options=settings.blob_storage_options,
        encryption=settings.blob_encryption,
    )


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Whether new blobs are encrypted, the current KEK, and how many blobs each KEK wraps."""
    from collections import Counter

    store = _store()
    assert store.envelope is not None
    keys = store.envelope.keys
    counts: Counter[str] = Counter(str(store.key_id(d) or "plaintext") for d in store.digests())
    current = keys.current_key_id() if keys.key_ids() else None
    value = {
        "encryption": STATE.settings.encryption,
        "store": store.url,
        "current_kek": current,
        "keks": keys.key_ids(),
        "blobs": dict(sorted(counts.items())),
    }

    def show() -> None:
        console.print(
            f"encryption {value['encryption']} for {store.url}; current KEK {current or '-'}"
        )
        rows = [(k, counts.get(k, 0), "yes" if k == current else "") for k in keys.key_ids()]
        if counts.get("plaintext"):
            rows.append(("plaintext", counts["plaintext"], ""))
        table(None, ["KEK", "blobs", "current"], rows)

    emit(value, as_json, show)


@app.command()
def rotate(
    remove_old: Annotated[
        bool,
        typer.Option(
            "--remove-old",
            help="Then delete every other local KEK that no blob still uses (irreversible).",
        ),
    ] = False,
    to_key: Annotated[
        str | None,
        typer.Option(
            "--to-key",
            help="aws-kms: re-wrap under this existing KMS key (id, ARN or alias) instead of "
            "a new one.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a new KEK current and re-wrap every blob's data key under it (data is not
    re-encrypted; each blob's header is rewritten). Audited; with --url, the server rotates
    its own store. Interrupted, run it again: it finishes the same rotation."""
    report = STATE.client().encryption.rotate(to_key=to_key, remove_old=remove_old)

    def show() -> None:
        resumed = " (finished an interrupted rotation)" if report.resumed else ""
        console.print(
            f"KEK {report.kek}: re-wrapped {report.rewrapped} blobs in {report.seconds:.2f}s"
            + resumed
            + (
                f"; {report.plaintext} plaintext blobs left as they are" if report.plaintext else ""
            ),
            highlight=False,
            soft_wrap=True,
        )
        stale = [k for k in report.in_use if k != report.kek]
        if stale:
            console.print(f"still in use (written during the rotation; run it again): {stale}")
        if report.removed:
            console.print(f"removed KEKs: {', '.join(report.removed)}")

    emit(report, as_json, show)
