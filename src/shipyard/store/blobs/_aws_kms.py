"""Key-encryption keys held in AWS KMS (or a KMS-compatible service at ``endpoint_url``).

Data keys come from ``GenerateDataKey`` and open through ``Decrypt``, both under the
object's encryption context (``{"kind": "blob", "object": "<digest>"}``), so KMS refuses
to open a wrapped key copied onto another object. Rotation re-wraps with ``ReEncrypt``;
the data key never reaches this process during it. The KEK new objects use is the
setting ``kek_id``, or the key a rotation moved to, remembered in ``<keys>/kms-current``
(with every key used so far in ``<keys>/kms-keys``). KMS keys are never deleted from here:
retire an old one in KMS (``ScheduleKeyDeletion``) once no object uses it.
boto3 is imported only when this provider is used (the ``s3`` extra installs it).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import IntegrityError, InvalidInput, NotFound, StorageError
from shipyard.store.blobs._kms import KeyProvider, WrappedKey

KMS_KEY_ID = re.compile(r"[A-Za-z0-9:/_+=,.@-]{1,2048}")


def validate_kms_key_id(key_id: str, field: str = "kek_id") -> str:
    """``key_id`` if it has the shape of a KMS key id, ARN or alias."""
    if not KMS_KEY_ID.fullmatch(key_id):
        raise InvalidInput(f"{key_id!r:.80} is not a KMS key id, ARN or alias", field=field)
    return key_id


class AwsKmsKeyProvider(KeyProvider):
    """KEKs in AWS KMS; ``client`` is a boto3 KMS client, ``directory`` holds the pointer."""

    def __init__(self, client: Any, key_id: str, directory: Path) -> None:
        self.client = client
        self.configured = validate_kms_key_id(key_id)
        self.directory = directory
        self._lock = threading.Lock()
        self._arns: dict[str, str] = {}

    @classmethod
    def connect(
        cls,
        key_id: str | None,
        directory: Path,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> AwsKmsKeyProvider:
        """A provider with a boto3 client (credentials from boto3's usual chain)."""
        if not key_id:
            raise InvalidInput("the aws-kms key provider needs a KMS key id", field="kek_id")
        try:
            import boto3
        except ImportError as exc:
            raise InvalidInput(
                "the aws-kms key provider needs boto3: pip install 'shipyard[s3]'",
                field="kek_provider",
            ) from exc
        client = boto3.client("kms", endpoint_url=endpoint_url, region_name=region)
        return cls(client, key_id, directory)

    def _call(self, name: str, **arguments: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            result: dict[str, Any] = getattr(self.client, name)(**arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise IntegrityError(
                    "a data key does not open under its KMS key in context "
                    f"{dict(arguments.get('EncryptionContext') or {})}: altered or moved"
                ) from None
            if code in ("NotFoundException", "KMSInvalidStateException", "DisabledException"):
                raise NotFound(f"KMS key: {code}: {message}") from None
            raise StorageError(f"KMS {name} failed: {code}: {message}") from None
        except BotoCoreError as error:
            raise StorageError(f"KMS {name} failed: {error}") from None
        return result

    def _pointer(self) -> Path:
        return self.directory / "kms-current"

    def _known(self) -> Path:
        return self.directory / "kms-keys"

    def _arn(self, key_id: str) -> str:
        """The ARN of ``key_id`` (objects record ARNs, so an alias moving never matters)."""
        with self._lock:
            if key_id not in self._arns:
                found = self._call("describe_key", KeyId=key_id)["KeyMetadata"]
                self._arns[key_id] = str(found["Arn"])
            return self._arns[key_id]

    def current_key_id(self) -> str:
        try:
            return self._pointer().read_text().strip()
        except FileNotFoundError:
            return self._arn(self.configured)

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        found = self._call(
            "generate_data_key",
            KeyId=self.current_key_id(),
            KeySpec="AES_256",
            EncryptionContext=dict(context),
        )
        return bytes(found["Plaintext"]), WrappedKey(
            str(found["KeyId"]), bytes(found["CiphertextBlob"])
        )

    def decrypt(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        found = self._call(
            "decrypt",
            KeyId=validate_kms_key_id(wrapped.key_id, "key_id"),
            CiphertextBlob=wrapped.blob,
            EncryptionContext=dict(context),
        )
        if str(found["KeyId"]) != wrapped.key_id:
            raise IntegrityError(f"a data key opened under {found['KeyId']}, not {wrapped.key_id}")
        return bytes(found["Plaintext"])

    def re_encrypt(
        self, wrapped: WrappedKey, context: Mapping[str, str], new_key_id: str
    ) -> WrappedKey:
        found = self._call(
            "re_encrypt",
            CiphertextBlob=wrapped.blob,
            SourceKeyId=validate_kms_key_id(wrapped.key_id, "key_id"),
            SourceEncryptionContext=dict(context),
            DestinationKeyId=new_key_id,
            DestinationEncryptionContext=dict(context),
        )
        return WrappedKey(str(found["KeyId"]), bytes(found["CiphertextBlob"]))

    def use_key(self, key_id: str) -> str:
        """Make the existing KMS key ``key_id`` current; return its ARN."""
        arn = self._arn(validate_kms_key_id(key_id, "to_key"))
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        known = "\n".join(sorted({*self.key_ids(), arn})) + "\n"
        _write_atomically(self._known(), known)
        _write_atomically(self._pointer(), arn)
        return arn

    def create_key(self, to_key: str | None = None) -> str:
        if to_key is None:
            to_key = str(
                self._call("create_key", Description="shipyard key-encryption key")["KeyMetadata"][
                    "Arn"
                ]
            )
        return self.use_key(to_key)

    def key_ids(self) -> list[str]:
        try:
            listed = {k for k in self._known().read_text().split() if k}
        except FileNotFoundError:
            listed = set()
        return sorted(listed | {self.current_key_id()})

    def remove_key(self, key_id: str) -> None:
        raise InvalidInput(
            "KMS keys are retired in KMS (ScheduleKeyDeletion), not by Shipyard",
            field="remove_old",
        )


def _write_atomically(path: Path, text: str) -> None:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=".kms-")
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(name, path)
