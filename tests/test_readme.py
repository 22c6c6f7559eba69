"""README documents every setting the app reads and both newcomer commands."""

from pathlib import Path

from core.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table():
    missing = [s.name for s in SETTINGS if f"| `{s.name}` |" not in README]
    assert missing == []


def test_the_two_commands_are_documented():
    assert "make run" in README and "make test" in README


def test_local_settings_sample_lists_every_setting():
    import json

    sample = json.loads((Path(__file__).resolve().parents[1] / "local.settings.sample.json").read_text())
    assert sorted(sample["Values"]) == sorted(s.name for s in SETTINGS)
    assert sample["Values"]["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
