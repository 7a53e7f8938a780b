"""What participants said lives in the instance folder: it and its files are owner-only."""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa

from service.config import load_settings
from service.infra import migrate
from service.infra.db import make_engine


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_database_and_keys_are_owner_only_from_the_start(tmp_path):
    old = os.umask(0o022)  # a usual umask: files would be 0644 unless made otherwise
    try:
        instance = tmp_path / "instance"
        settings = load_settings(instance_dir=instance, database_url="", secret_key="")
        url = settings.effective_database_url
        migrate.upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:  # a write: the WAL and shared-memory files exist now
            conn.execute(sa.text("CREATE TABLE note (id INTEGER PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO note DEFAULT VALUES"))
            db = instance / "realign.db"
            assert {p.name for p in instance.iterdir()} >= {"realign.db", "realign.db-wal"}
            for name in ("realign.db", "realign.db-wal", "realign.db-shm"):
                if (instance / name).exists():
                    assert mode(instance / name) == 0o600, name
        engine.dispose()
        assert mode(db) == 0o600
        assert settings.effective_secret_key()
        assert mode(instance / "secret_key") == 0o600
        assert mode(instance) == 0o700
    finally:
        os.umask(old)


def test_a_looser_instance_folder_is_tightened(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    (instance / "realign.db").touch()
    (instance / "realign.db").chmod(0o644)
    settings = load_settings(instance_dir=instance, database_url="", secret_key="")
    make_engine(settings.effective_database_url).dispose()
    assert mode(instance) == 0o700 and mode(instance / "realign.db") == 0o600
