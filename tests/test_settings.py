import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

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
