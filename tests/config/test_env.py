import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_database, env_int, env_list, env_str


def test_unset_variables_fall_back_to_their_defaults(monkeypatch):
    monkeypatch.delenv("MIXADVICE_X", raising=False)
    assert env_bool("MIXADVICE_X", True) is True
    assert env_int("MIXADVICE_X", 7) == 7
    assert env_list("MIXADVICE_X", ["a"]) == ["a"]
    assert env_str("MIXADVICE_X", "d") == "d"


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("off", False), ("Yes", True), ("false", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("MIXADVICE_X", raw)
    assert env_bool("MIXADVICE_X", not expected) is expected


def test_a_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("MIXADVICE_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="MIXADVICE_FLAG='maybe' is not a boolean"):
        env_bool("MIXADVICE_FLAG", False)


def test_a_bad_integer_names_the_variable(monkeypatch):
    monkeypatch.setenv("MIXADVICE_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="MIXADVICE_N='ten' is not an integer"):
        env_int("MIXADVICE_N", 1)
    monkeypatch.setenv("MIXADVICE_N", "-1")
    with pytest.raises(ImproperlyConfigured, match="MIXADVICE_N=-1 must be at least 0"):
        env_int("MIXADVICE_N", 1, minimum=0)


def test_a_required_string_names_the_missing_variable(monkeypatch):
    monkeypatch.delenv("MIXADVICE_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="MIXADVICE_KEY must be set"):
        env_str("MIXADVICE_KEY", required=True)


def test_lists_are_split_on_commas_and_trimmed(monkeypatch):
    monkeypatch.setenv("MIXADVICE_HOSTS", " a.example , b.example,,")
    assert env_list("MIXADVICE_HOSTS", []) == ["a.example", "b.example"]


def test_the_default_database_is_sqlite_in_wal_mode_with_a_busy_timeout(monkeypatch, tmp_path):
    monkeypatch.delenv("MIXADVICE_DB", raising=False)
    config = env_database("MIXADVICE_DB", tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] > 0


def test_a_postgres_url_gives_a_postgresql_database(monkeypatch, tmp_path):
    monkeypatch.setenv("MIXADVICE_DB", "postgres://u:p@127.0.0.1:5433/mix")
    config = env_database("MIXADVICE_DB", tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["PORT"], config["USER"]) == ("mix", 5433, "u")


def test_a_database_url_of_an_unknown_scheme_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("MIXADVICE_DB", "mongodb://localhost/x")
    with pytest.raises(ImproperlyConfigured, match="MIXADVICE_DB="):
        env_database("MIXADVICE_DB", tmp_path / "db.sqlite3")
