"""Typed readers for environment variables.

Each helper returns a default when the variable is unset or empty and raises
``ImproperlyConfigured`` naming the variable when its value cannot be parsed, so a
typo in a deployment stops the process at start-up instead of being ignored.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name):
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name, default=None, *, required=False):
    """Return the variable as a string; raise if ``required`` and unset."""
    value = _raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return value


def env_bool(name, default):
    """Return the variable as a boolean (1/0, true/false, yes/no, on/off)."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name, default, *, minimum=None):
    """Return the variable as an integer, at least ``minimum`` when given."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name, default):
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name, default_sqlite_path):
    """Return a Django DATABASES entry from a database URL.

    Unset means an SQLite file at ``default_sqlite_path``. SQLite databases get
    WAL journaling, a busy timeout and immediate transactions so that the web
    server, the worker and management commands can share one file.
    """
    import dj_database_url

    value = _raw(name)
    if value is None:
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite_path)}
    else:
        try:
            config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
        except (ValueError, KeyError) as error:
            raise ImproperlyConfigured(
                f"{name}={value!r} is not a database URL "
                "(expected sqlite:///path or postgres://user:password@host:port/name): "
                f"{error}"
            ) from None
        if not config.get("ENGINE"):
            raise ImproperlyConfigured(f"{name}={value!r} names no supported database engine.")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {}).update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                ),
            }
        )
    return config
