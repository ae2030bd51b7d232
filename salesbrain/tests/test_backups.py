"""Backups: the encrypted file format, naming and pruning, and a real round trip.

The round trip backs up the test database with the demo loaded, restores it into a fresh
database on the same server, and compares every table's row count, every row-level security
policy and flag, and the application role's rights.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from prometheus_client import REGISTRY
from psycopg import sql

from salesbrain import backups

KEY_A = "YmFja3VwLXRlc3Qta2V5LWEtMDAwMDAwMDAwMDAwMDA="
KEY_B = "YmFja3VwLXRlc3Qta2V5LWItMDAwMDAwMDAwMDAwMDA="


def encrypted(data: bytes, key: str = KEY_A) -> bytes:
    out = io.BytesIO()
    backups.encrypt_stream(io.BytesIO(data), out, key)
    return out.getvalue()


def decrypted(blob: bytes, keys=(KEY_A,)) -> bytes:
    out = io.BytesIO()
    backups.decrypt_stream(io.BytesIO(blob), out, list(keys))
    return out.getvalue()


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(backups, "CHUNK_BYTES", 16)


@pytest.mark.parametrize("size", [0, 1, 16, 17, 100])
def test_encryption_round_trips_any_size(small_chunks, size):
    data = bytes(range(256))[:size] * 1
    blob = encrypted(data)
    assert blob.startswith(backups.MAGIC)
    assert data == decrypted(blob)
    if size >= 8:
        assert data not in blob


def test_any_configured_key_opens_a_backup_so_keys_can_rotate(small_chunks):
    assert decrypted(encrypted(b"rows and rows", KEY_B), keys=(KEY_A, KEY_B)) == b"rows and rows"
    with pytest.raises(backups.BackupError, match="no key"):
        decrypted(encrypted(b"rows and rows", KEY_B), keys=(KEY_A,))


def test_a_cut_or_altered_backup_is_refused(small_chunks):
    blob = encrypted(b"x" * 100)
    chunk = 4 + 16 + 16  # length, ciphertext, tag
    header = len(backups.MAGIC) + backups.SALT_BYTES
    with pytest.raises(backups.BackupError):
        decrypted(blob[: header + 2 * chunk])  # whole chunks missing at the end
    with pytest.raises(backups.BackupError):
        decrypted(blob[:-3])
    flipped = bytearray(blob)
    flipped[header + 10] ^= 1
    with pytest.raises(backups.BackupError):
        decrypted(bytes(flipped))
    with pytest.raises(backups.BackupError, match="not a Salesbrain backup"):
        decrypted(b"PGDMP" + blob)


def test_names_sort_by_time_and_pruning_keeps_the_newest(tmp_path):
    storage = backups.DirectoryStorage(tmp_path)
    start = dt.datetime(2026, 11, 1, 3, 17, tzinfo=dt.UTC)
    names = [backups.backup_name(start + dt.timedelta(days=d)) for d in range(5)]
    assert names[0] == "salesbrain-20261101T031700Z.dump.enc"
    for name in reversed(names):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a backup")
    assert backups.prune(storage, keep=2) == names[:3]
    assert storage.names() == names[3:]
    assert (tmp_path / "notes.txt").exists()
    assert backups.prune(storage, keep=0) == []


def test_the_client_tools_must_be_as_new_as_the_server(monkeypatch, tmp_path):
    versions = {}
    for major in (15, 16, 18):
        directory = tmp_path / f"pg{major}"
        directory.mkdir()
        tool = directory / "pg_dump"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
        versions[str(tool)] = major
    monkeypatch.setattr(backups, "_tool_dirs", lambda: [str(p) for p in sorted(tmp_path.iterdir())])
    monkeypatch.setattr(backups, "_tool_major", versions.get)
    assert backups.pg_tool("pg_dump", 15) == str(tmp_path / "pg15" / "pg_dump")
    assert backups.pg_tool("pg_dump", 17) == str(tmp_path / "pg18" / "pg_dump")  # embedded 18
    with pytest.raises(backups.BackupError, match="PostgreSQL 19"):
        backups.pg_tool("pg_dump", 19)


# --- the real thing ------------------------------------------------------------------------------

TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
"""
RLS_FLAGS = """
    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
"""
POLICIES = """
    SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check
    FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2
"""
TABLE_RIGHTS = """
    SELECT c.relname, c.relkind, p.privilege FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace,
    unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER',
                 'USAGE']) AS p(privilege)
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S')
      AND CASE WHEN c.relkind = 'S' AND p.privilege IN ('SELECT','UPDATE','USAGE')
               THEN has_sequence_privilege(%(role)s, c.oid, p.privilege)
               WHEN c.relkind <> 'S' AND p.privilege <> 'USAGE'
               THEN has_table_privilege(%(role)s, c.oid, p.privilege)
               ELSE false END
    ORDER BY 1, 3
"""
DEFAULT_RIGHTS = """
    SELECT d.defaclobjtype, a.privilege_type FROM pg_default_acl d,
    aclexplode(d.defaclacl) a WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %(role)s)
    ORDER BY 1, 2
"""
ROLE = """
    SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin
    FROM pg_roles WHERE rolname = %(role)s
"""


def snapshot(database: backups.Database) -> dict:
    role = {"role": settings.APP_DB_USER}
    with database.connect() as conn:
        tables = [row[0] for row in conn.execute(TABLES)]
        counts = {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }
        return {
            "counts": counts,
            "rls": conn.execute(RLS_FLAGS).fetchall(),
            "policies": conn.execute(POLICIES).fetchall(),
            "table_rights": conn.execute(TABLE_RIGHTS, role).fetchall(),
            "default_rights": conn.execute(DEFAULT_RIGHTS, role).fetchall(),
            "role": conn.execute(ROLE, role).fetchall(),
            "schema_usage": conn.execute(
                "SELECT has_schema_privilege(%(role)s, 'public', 'USAGE')", role
            ).fetchone()[0],
        }


@pytest.fixture
def restore_target():
    source = backups.Database.from_settings()
    target = backups.Database.from_settings(name=f"{source.name}_restored")
    server = backups.Database.from_settings(name="postgres")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.name))
    with server.connect() as conn:
        conn.execute(drop)
    yield target
    with server.connect() as conn:
        conn.execute(drop)


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_gives_the_same_database(monkeypatch, tmp_path, restore_target):
    monkeypatch.setattr("instantly.demo.DEMO_DELIVERIES", 300)
    call_command("seed_demo", stdout=io.StringIO())
    monkeypatch.setattr(settings, "BACKUP_DIR", tmp_path)
    before_ok = REGISTRY.get_sample_value("salesbrain_backups_total", {"outcome": "ok"}) or 0

    out = io.StringIO()
    call_command("backup", keep=3, stdout=out)
    (name,) = backups.DirectoryStorage(tmp_path).names()
    assert out.getvalue().startswith(name)
    assert REGISTRY.get_sample_value("salesbrain_backups_total", {"outcome": "ok"}) == before_ok + 1
    stored = (tmp_path / name).read_bytes()
    assert stored.startswith(backups.MAGIC) and b"PGDMP" not in stored[:64]

    call_command(
        "restore", name, database_name=restore_target.name, create=True, stdout=io.StringIO()
    )

    original = snapshot(backups.Database.from_settings())
    restored = snapshot(restore_target)
    assert original["counts"]["campaigns_campaign"] > 0
    assert original["counts"]["instantly_webhookevent"] > 0
    assert sum(original["counts"].values()) > 1000
    assert restored["counts"] == original["counts"]
    assert len(original["policies"]) >= 20
    assert restored["policies"] == original["policies"]
    assert restored["rls"] == original["rls"]
    assert original["table_rights"]
    assert restored["table_rights"] == original["table_rights"]
    assert restored["default_rights"] == original["default_rights"]
    assert restored["role"] == original["role"] == [(False, False, False, False, True)]
    assert restored["schema_usage"] is True


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "BACKUP_DIR", tmp_path)
    call_command("backup", stdout=io.StringIO())
    (name,) = backups.DirectoryStorage(tmp_path).names()
    with pytest.raises(Exception, match="not empty"):
        call_command("restore", str(Path(tmp_path) / name), stdout=io.StringIO())
