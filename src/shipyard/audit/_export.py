"""An export of the audit log on disk, and its check with no database (an auditor's view).

A directory holds ``events.jsonl`` (one sealed event a line, in seq order),
``checkpoints.jsonl`` (one signed checkpoint a line) and ``audit-signing.pub`` (the
checkpoints' Ed25519 public key, PEM). ``verify_export`` recomputes every hash and checks
every signature, against the export's own key or, better, one the auditor got elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import ValidationError

from shipyard.audit._chain import ChainVerifier
from shipyard.errors import InvalidInput
from shipyard.schemas.security import (
    AuditChainEvent,
    AuditCheckpointInfo,
    AuditExportPage,
    AuditVerification,
)

EVENTS, CHECKPOINTS, PUBLIC_KEY = "events.jsonl", "checkpoints.jsonl", "audit-signing.pub"


def write_export_page(directory: Path, page: AuditExportPage, *, first: bool) -> None:
    """Write (the first page) or append (the rest) one page of an export."""
    directory.mkdir(parents=True, exist_ok=True)
    mode = "w" if first else "a"
    if first:
        (directory / PUBLIC_KEY).write_text(page.public_key)
    with (directory / EVENTS).open(mode, encoding="utf-8") as out:
        out.writelines(e.model_dump_json() + "\n" for e in page.events)
    with (directory / CHECKPOINTS).open(mode, encoding="utf-8") as out:
        out.writelines(c.model_dump_json() + "\n" for c in page.checkpoints)


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file, or an error naming the file."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}", field="public_key") from None
    except ValueError:
        raise InvalidInput(f"{path} is not a PEM public key", field="public_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{path} is not an Ed25519 public key", field="public_key")
    return key


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.is_file():
        raise InvalidInput(f"{path} does not exist", field="from")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                yield number, line


def verify_export(directory: Path, public_key: Path | None = None) -> AuditVerification:
    """Check an export; ``public_key`` (PEM) overrides the key shipped inside it."""
    key = read_public_key(public_key or directory / PUBLIC_KEY)
    try:
        checkpoints = [
            AuditCheckpointInfo.model_validate_json(line)
            for _, line in _lines(directory / CHECKPOINTS)
        ]
    except ValidationError as error:
        raise InvalidInput(f"{CHECKPOINTS}: {error.errors()[0]['msg']}", field="from") from None
    verifier = ChainVerifier(checkpoints, key)
    for number, line in _lines(directory / EVENTS):
        try:
            event = AuditChainEvent.model_validate_json(line)
        except ValidationError:
            raise InvalidInput(f"{EVENTS} line {number} is not an event", field="from") from None
        if not verifier.feed(event):
            break
    return verifier.finish()
