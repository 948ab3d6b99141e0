import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from tests.support.hostile_settings import HOSTILE_SETTINGS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_env_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_need_nothing():
    settings = load_settings()
    assert settings.discord_token is None
    assert settings.openrouter_base_url == "https://openrouter.ai/api/v1"
    assert settings.poll_interval_seconds == 60
    assert settings.database_path.name.endswith(".db")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POLL_INTERVAL_SECONDS", "1"),
        ("POLL_INTERVAL_SECONDS", "soon"),
        ("ANNOUNCE_CHANNEL_ID", "general"),
        ("LOG_LEVEL", "LOUD"),
        ("OPENROUTER_BASE_URL", "openrouter.ai"),
        ("DISCORD_GATEWAY_URL", "nope"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value).startswith(f"{variable}: ") and "\n" not in str(error.value)


def test_dotenv_is_read_and_secrets_are_masked(tmp_path):
    (tmp_path / ".env").write_text("DISCORD_TOKEN=tok-SECRET\nOPENROUTER_API_KEY=sk-SECRET\nPOLL_INTERVAL_SECONDS=30\n")
    settings = load_settings()
    assert settings.poll_interval_seconds == 30
    assert settings.discord_token.get_secret_value() == "tok-SECRET"
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())


def test_env_example_documents_every_setting():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}
    for line_number, line in enumerate(text.splitlines()):
        if re.match(r"^[A-Z_]+=", line):
            assert text.splitlines()[line_number - 1].startswith("#"), f"{line} has no comment above it"


@pytest.mark.parametrize(("variable", "value"), HOSTILE_SETTINGS)
def test_hostile_value_is_refused_in_one_line_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(f"{variable}: ") and "\n" not in message
    assert "hunter2" not in message and "pw@" not in message


def test_shard_ids_must_exist_among_the_shards(monkeypatch):
    monkeypatch.setenv("SHARD_COUNT", "3")
    monkeypatch.setenv("SHARD_IDS", "1-2")
    assert load_settings().shards == [1, 2]
    monkeypatch.setenv("SHARD_IDS", "2,3")
    with pytest.raises(SettingsError, match=r"^SHARD_IDS: shard 3 does not exist with SHARD_COUNT=3$"):
        load_settings()


def test_a_database_path_that_is_a_directory_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path))
    with pytest.raises(SettingsError, match=r"^DATABASE_PATH: .* is a directory"):
        load_settings()


def test_every_numeric_setting_has_both_bounds():
    """A number without an upper bound is how `POLL_INTERVAL_SECONDS=inf` became an outage; every new one needs one."""
    for name, field in Settings.model_fields.items():
        if field.annotation not in (int, float, int | None, float | None) or name.endswith("_id"):
            continue  # Discord ids are bounded by their validator (next test)
        bounds = {type(rule).__name__ for rule in field.metadata}
        assert bounds & {"Ge", "Gt"} and bounds & {"Le", "Lt"}, f"{name.upper()} has no lower and upper bound"


def test_discord_ids_need_a_validator_too():
    """Ids are numbers with no natural bound in the annotation: the validator is what keeps them below 2^63."""
    ids = [name for name, field in Settings.model_fields.items() if name.endswith("_id")]
    for name in ids:
        with pytest.raises(SettingsError, match=name.upper()):
            load_settings(**{name: 2**63})


def test_empty_variables_mean_the_default_as_env_example_leaves_them(tmp_path):
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = load_settings()
    assert settings.dev_guild_id is None and settings.shard_count is None and settings.announce_channel_id is None
    assert settings.openrouter_base_url == "https://openrouter.ai/api/v1"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("POLL_INTERVAL_SECONDS", "86400", 86400),
        ("PROBE_REQUESTS_PER_MINUTE", "0.5", 0.5),
        ("DEV_GUILD_ID", str(2**63 - 1), 2**63 - 1),
        ("SHARD_COUNT", "4", 4),
        ("OPENROUTER_BASE_URL", "http://127.0.0.1:8080/api/v1/", "http://127.0.0.1:8080/api/v1"),
        ("DISCORD_GATEWAY_URL", "wss://gateway.discord.gg", "wss://gateway.discord.gg"),
    ],
)
def test_sane_values_at_the_edges_are_accepted(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    assert getattr(load_settings(), variable.lower()) == expected
