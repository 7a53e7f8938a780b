"""Configuration: safe local defaults, and a wrong value fails at start naming the variable."""

from __future__ import annotations

import pytest

from service.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "PORT",
        "PUBLIC_BASE_URL",
        "REALIGN_ENV",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID",
        "TWILIO_API_BASE_URL",
        "TWILIO_TIMEOUT",
        "LOG_LEVEL",
        "TRUSTED_PROXIES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REALIGN_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_local_defaults_need_nothing(tmp_path):
    settings = load_settings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'instance' / 'realign.db'}"
    assert settings.effective_redis_url == f"unix://{tmp_path / 'instance' / 'redis.sock'}"
    assert settings.twilio_console_mode
    assert settings.trusted_proxies == 0  # X-Forwarded-For is ignored unless proxies are named


def test_dev_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings().effective_secret_key()
    assert len(first) == 64
    assert load_settings().effective_secret_key() == first
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "env,named",
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"PUBLIC_BASE_URL": "realign.example.org"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_API_BASE_URL": "ftp://x"}, "TWILIO_API_BASE_URL"),
        ({"TWILIO_ACCOUNT_SID": "XX123", "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_FROM_NUMBER": "555-0100"}, "TWILIO_FROM_NUMBER"),
        ({"TWILIO_MESSAGING_SERVICE_SID": "AC" + "0" * 32}, "TWILIO_MESSAGING_SERVICE_SID"),
        ({"TWILIO_TIMEOUT": "0"}, "TWILIO_TIMEOUT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"REALIGN_ENV": "staging"}, "REALIGN_ENV"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "yes"}, "TRUSTED_PROXIES"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32}, "TWILIO_AUTH_TOKEN"),
        # A claim must outlast a whole request (connect + read timeouts) with room to start one.
        ({"TWILIO_TIMEOUT": "30", "CLAIM_STALE_SECONDS": "60"}, "CLAIM_STALE_SECONDS"),
    ],
)
def test_wrong_values_fail_naming_the_variable(monkeypatch, env, named):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert named in str(err.value)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_refuses_to_start_without_essentials(monkeypatch, missing):
    monkeypatch.setenv("REALIGN_ENV", "production")
    for name, value in {
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": "postgresql://u@db/realign",
        "REDIS_URL": "redis://cache:6379/0",
    }.items():
        if name != missing:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert missing in str(err.value)


def test_heroku_style_postgres_urls_are_accepted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/realign")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/realign"


def test_app_factory_refuses_bad_config_before_serving(monkeypatch):
    from service.app import create_app

    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app()


PRODUCTION = {
    "REALIGN_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "postgresql://u@db/realign",
    "REDIS_URL": "redis://cache:6379/0",
}


def test_production_refuses_to_start_without_twilio_unless_console_on_purpose(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    for named in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "TWILIO_CONSOLE"):
        assert named in str(err.value)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    with pytest.raises(ConfigError):  # an account, but nothing to send from
        load_settings()
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "2" * 32)
    assert not load_settings().twilio_console_mode
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("TWILIO_CONSOLE", "1")
    assert load_settings().twilio_console_mode


def test_webhook_shared_keys_are_key_id_and_secret_pairs(monkeypatch):
    monkeypatch.setenv("TWILIO_WEBHOOK_SHARED_KEYS", "k1=one, k2=two")
    assert load_settings().webhook_shared_keys == {"k1": "one", "k2": "two"}
    monkeypatch.setenv("TWILIO_WEBHOOK_SHARED_KEYS", "k1")
    with pytest.raises(ConfigError, match="TWILIO_WEBHOOK_SHARED_KEYS"):
        load_settings()
