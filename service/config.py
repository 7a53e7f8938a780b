"""Configuration from environment variables, with safe defaults for local use."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.infra.private import private_dir

DEFAULT_INSTANCE = Path(os.environ.get("REALIGN_INSTANCE_DIR", "instance"))


class ConfigError(RuntimeError):
    """A configuration value is wrong; the message names the variable."""


class Settings(BaseSettings):
    """Every setting the service reads, from the environment (or `.env`)."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", case_sensitive=False, populate_by_name=True
    )

    env: Literal["development", "production", "test"] = Field(
        "development", validation_alias="REALIGN_ENV"
    )
    instance_dir: Path = Field(DEFAULT_INSTANCE, validation_alias="REALIGN_INSTANCE_DIR")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    port: int = Field(5000, ge=1, le=65535)
    public_base_url: str = "http://localhost:5000"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_base_url: str = ""
    twilio_timeout: float = Field(10.0, gt=0, le=120)
    recordings_dir: Path | None = None
    # Twilio's per-number throughput (messages per second); 0 turns the cap off.
    sender_mps: int = Field(10, ge=0, le=1000)
    send_concurrency: int = Field(16, ge=1, le=256)
    # Processes `python -m jobs.worker` runs (the Procfile's worker line passes its own).
    worker_processes: int = Field(1, ge=1, le=64)
    # Texts one job turns at once, each on its own connection (PostgreSQL; SQLite: 1).
    turn_lanes: int = Field(2, ge=1, le=8)
    # A send claimed this long ago with no outcome is reconciled against Twilio's list.
    # Must exceed TWILIO_TIMEOUT so a live worker is never second-guessed.
    claim_stale_seconds: int = Field(120, ge=1, le=3600)
    # An event webhook try claimed this long ago is taken as its worker's death: one that
    # had not started its request yet is sent again, one whose request may have left is
    # marked unknown, never sent again by itself (tests shorten it).
    webhook_claim_stale_seconds: int = Field(60, ge=1, le=3600)
    # Transient Twilio failures are retried (capped backoff, jitter) for this long.
    send_retry_hours: float = Field(24.0, gt=0, le=24 * 7)
    # An inbound webhook waits this long for the database before spooling to Redis.
    webhook_db_timeout: float = Field(3.0, gt=0, le=30)
    # Console mode on purpose in production (no Twilio account: nothing is sent).
    twilio_console: bool = False
    # `key_id=secret` pairs (comma-separated) for HMAC-SHA256 webhook signatures.
    twilio_webhook_shared_keys: str = ""
    # Proxies in front of the web process that append the client's address to
    # X-Forwarded-For (Heroku's router: 1). 0: the header is ignored (anyone can write it).
    trusted_proxies: int = Field(0, ge=0, le=5)
    # Bearer token for GET /metrics (Prometheus); no token, no endpoint.
    metrics_token: str = ""
    # Bearer token for /healthz's details (which part is away); without it, only ok or not.
    health_token: str = ""
    # Sentry DSN for error reports (redacted like the logs); empty: off.
    sentry_dsn: str = ""
    log_level: str = "INFO"
    # Requests each API token may make, in the `limits` notation ("120/minute", or several
    # separated by ";": "20/second;600/hour").
    api_rate_limit: str = "120/minute"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        if v and not v.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        # Heroku-style platforms still hand out postgres://, which SQLAlchemy refuses.
        if v.startswith("postgres://"):
            v = "postgresql+psycopg://" + v.removeprefix("postgres://")
        elif v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v.removeprefix("postgresql://")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str) -> str:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return v

    @field_validator("public_base_url", "twilio_api_base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://realign.example.org")
        return v.rstrip("/")

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid(cls, v: str) -> str:
        if v and not (v.startswith("AC") and len(v) == 34):
            raise ValueError("must look like AC followed by 32 characters")
        return v

    @field_validator("twilio_messaging_service_sid")
    @classmethod
    def _service_sid(cls, v: str) -> str:
        if v and not (v.startswith("MG") and len(v) == 34):
            raise ValueError("must look like MG followed by 32 characters")
        return v

    @field_validator("twilio_from_number")
    @classmethod
    def _from_number(cls, v: str) -> str:
        if v and not (v.startswith("+") and v[1:].isdigit() and 8 <= len(v) <= 16):
            raise ValueError("must be an E.164 number such as +15550100200")
        return v

    @field_validator("twilio_webhook_shared_keys")
    @classmethod
    def _shared_keys(cls, v: str) -> str:
        for pair in (p.strip() for p in v.split(",") if p.strip()):
            key_id, eq, secret = pair.partition("=")
            if not eq or not key_id.strip() or not secret.strip():
                raise ValueError("must be key_id=secret pairs separated by commas")
        return v

    @field_validator("api_rate_limit")
    @classmethod
    def _api_rate_limit(cls, v: str) -> str:
        from limits import parse_many

        try:
            if not parse_many(v):
                raise ValueError(v)
        except ValueError:
            example = '"120/minute" or "20/second;600/hour"'
            raise ValueError(f"must be a rate such as {example}") from None
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        v = v.upper()
        if v not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return v

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.env == "production":
            if not self.secret_key:
                raise ValueError("SECRET_KEY must be set in production")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set in production")
            if not self.redis_url:
                raise ValueError("REDIS_URL must be set in production")
            has_sender = bool(self.twilio_account_sid) and bool(
                self.twilio_from_number or self.twilio_messaging_service_sid
            )
            if not has_sender and not self.twilio_console:
                raise ValueError(
                    "production sends real texts: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                    "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID (or TWILIO_CONSOLE=1 to "
                    "record texts without sending them, on purpose)"
                )
        if self.claim_stale_seconds <= 2 * self.twilio_timeout + 1:
            # A send may start only while its claim has time left for the request to end
            # (outbox.send_deadline): connect and read can each take TWILIO_TIMEOUT.
            raise ValueError(
                "CLAIM_STALE_SECONDS must be longer than twice TWILIO_TIMEOUT plus one second"
            )
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together")
        return self

    # Derived values -----------------------------------------------------------------

    @property
    def webhook_shared_keys(self) -> dict[str, str]:
        """TWILIO_WEBHOOK_SHARED_KEYS as {key id: secret}."""
        keys = {}
        for pair in self.twilio_webhook_shared_keys.split(","):
            key_id, _, secret = pair.strip().partition("=")
            if key_id.strip() and secret.strip():
                keys[key_id.strip()] = secret.strip()
        return keys

    @property
    def twilio_console_mode(self) -> bool:
        """No credentials, or TWILIO_CONSOLE=1: outbound texts are recorded and shown,
        never sent."""
        return self.twilio_console or not self.twilio_account_sid

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_dir / 'realign.db').resolve()}"

    @property
    def effective_redis_url(self) -> str:
        """REDIS_URL, or the embedded server the dev stack starts in the instance folder."""
        if self.redis_url:
            return self.redis_url
        return f"unix://{(self.instance_dir / 'redis.sock').resolve()}"

    @property
    def effective_recordings_dir(self) -> Path:
        return self.recordings_dir or (self.instance_dir / "recordings")

    def effective_secret_key(self) -> str:
        """The configured key, or (outside production) one generated once and kept."""
        return self.secret_key or self._kept_secret("secret_key")

    def webhook_auth_token(self) -> str:
        """The token Twilio signs webhooks with.

        Without Twilio credentials (local use) a token is generated and kept, so that
        signatures are still checked and the simulator and tests can sign requests.
        """
        return self.twilio_auth_token or self._kept_secret("local_auth_token")

    def _kept_secret(self, name: str) -> str:
        path = self.instance_dir / name
        if path.exists():
            return path.read_text().strip()
        private_dir(self.instance_dir)
        value = secrets.token_hex(16 if name == "local_auth_token" else 32)
        # Create with 0600 from the start; write-then-chmod would leave a window.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the stack wrote it first
            time.sleep(0.05)
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value


def load_settings(**overrides) -> Settings:
    """Read settings; a wrong value raises ConfigError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
            name = loc[0].upper() if loc else "configuration"
            field = Settings.model_fields.get(loc[0]) if loc else None
            if field is not None and isinstance(field.validation_alias, str):
                name = field.validation_alias
            msg = err.get("msg", "").removeprefix("Value error, ")
            problems.append(f"{name}: {msg}" if loc else msg)
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None
