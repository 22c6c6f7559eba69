"""The samples' decisions as plain functions: settings, prices, e-mail outcomes, function dispatch, file names."""

from __future__ import annotations

import datetime
import json

import pandas as pd
import pytest

import samples
from samples import functions
from samples.connection import connection_from
from samples.conversation import call_function, sandbox_file_name
from samples.session import about_user


def test_the_seeds_env_names_are_read_and_blanks_fall_back_to_make_run():
    assert connection_from({}) == connection_from({"OPENAI_URI": " ", "OPENAI_KEY": ""})
    local = connection_from({})
    assert (local.endpoint, local.api_key) == ("http://127.0.0.1:7071", "local")  # make run needs no real key
    seed = connection_from({"OPENAI_URI": "https://contoso-assistants.azurewebsites.net/", "OPENAI_KEY": "k-123",
                            "OPENAI_VERSION": "2024-02-15-preview", "OPENAI_GPT_DEPLOYMENT": "gpt-4o-mini"})
    assert seed.endpoint == "https://contoso-assistants.azurewebsites.net"
    assert (seed.api_key, seed.api_version, seed.deployment) == ("k-123", "2024-02-15-preview", "gpt-4o-mini")
    assert "k-123" not in seed.describe()


def daily(*rows) -> pd.DataFrame:
    index = pd.DatetimeIndex([pd.Timestamp(day, tz="America/New_York") for day, _ in rows], name="Date")
    return pd.DataFrame({"Close": [close for _, close in rows]}, index=index)


def test_the_latest_close_skips_a_day_without_a_close():
    answer = functions.latest_close("MSFT", daily(("2026-11-19", 418.0), ("2026-11-20", 420.104), ("2026-11-23", None)))
    assert answer == {"symbol": "MSFT", "close": 420.1, "date": "2026-11-20"}


@pytest.mark.parametrize("bars", [None, pd.DataFrame(), daily(("2026-11-20", None))])
def test_no_bars_mean_an_unknown_symbol(bars):
    assert functions.latest_close("NOPE", bars) == {"error": "no price data for NOPE: unknown or delisted symbol"}


def test_a_yahoo_failure_is_an_answer_for_the_model(monkeypatch):
    def unreachable(symbol):
        raise ConnectionError("Yahoo is down")

    monkeypatch.setattr(functions, "price_history", unreachable)
    assert json.loads(functions.get_stock_price({"symbol": "msft"})) == {
        "error": "Yahoo Finance could not give a price for MSFT (ConnectionError)"}
    assert "missing" in json.loads(functions.get_stock_price({}))["error"]


@pytest.mark.parametrize("status, outcome", [
    (200, {"status": "sent"}), (204, {"status": "sent"}),
    (202, {"status": "accepted", "detail": "the Logic App accepted the e-mail for delivery"}),
    (400, {"error": "the e-mail was not sent: the Logic App answered HTTP 400"}),
    (500, {"error": "the e-mail was not sent: the Logic App answered HTTP 500"}),
])
def test_only_a_2xx_of_the_logic_app_counts_as_sent(status, outcome):
    assert functions.email_outcome(status) == outcome


def test_without_email_uri_nothing_is_sent_and_the_model_is_told(monkeypatch):
    monkeypatch.delenv("EMAIL_URI", raising=False)
    told = json.loads(functions.send_email({"to": "a@contoso.com", "content": "hi"}))
    assert told == {"error": "the e-mail was not sent: no Logic App is configured (EMAIL_URI is unset)"}
    assert "missing" in json.loads(functions.send_email({"to": "a@contoso.com"}))["error"]


def test_an_unreachable_logic_app_is_not_sent(monkeypatch):
    monkeypatch.setenv("EMAIL_URI", "http://127.0.0.1:9/mail")  # the discard port: nothing listens
    told = json.loads(functions.send_email({"to": "a@contoso.com", "subject": "s", "body": "b"}))
    assert told["error"].startswith("the e-mail was not sent: the Logic App could not be reached")


def test_requested_functions_run_and_bad_requests_become_outputs():
    echo = {"echo": lambda arguments: json.dumps(arguments)}
    assert call_function(echo, "echo", '{"a": 1}') == ({"a": 1}, '{"a": 1}')
    assert call_function(echo, "echo", "") == ({}, "{}")
    assert call_function(echo, "echo", "{not json") == ({}, '{"error": "the arguments were not valid JSON"}')
    assert call_function(echo, "echo", "[1]") == ({}, '{"error": "the arguments must be a JSON object"}')
    assert call_function(echo, "rm_rf", "{}") == ({}, '{"error": "this client has no function named rm_rf"}')
    crashing = {"boom": lambda arguments: 1 / 0}
    assert call_function(crashing, "boom", "{}") == ({}, '{"error": "boom failed on the client (ZeroDivisionError)"}')


@pytest.mark.parametrize("text, name", [
    ("sandbox:/mnt/data/failures_per_year.csv", "failures_per_year.csv"),
    ("sandbox:/mnt/data/../../etc/passwd", "passwd"),  # never a path outside the output folder
    ("sandbox:/mnt/data/", "data"),
    ("sandbox:/", "file-abc"),
    ("..", "file-abc"),
    ("sandbox:/mnt/data/..\\..\\evil.bat", "evil.bat"),  # Windows separators too
    ("sandbox:/mnt/data/C:evil.txt", "C_evil.txt"),  # no drive-relative path on Windows
])
def test_a_created_file_is_saved_under_its_own_name_only(text, name):
    assert sandbox_file_name(text, "file-abc") == name


def test_run_instructions_name_the_user_and_the_date():
    text = about_user("Jane Doe", datetime.date(2026, 11, 24))
    assert "Jane Doe" in text and "2026-11-24" in text


def test_every_listed_sample_loads_with_a_run_function_and_its_data():
    for name in samples.SAMPLES:
        module = samples.load(name)
        assert callable(module.run) and module.NAME
    assert all(path.exists() for path in (samples.load("failed_banks").DATA, samples.load("wind_farm").DATA,
                                          samples.load("personal_finance").DATA))
    assert samples.load("law_firm").CASE_FILES
    with pytest.raises(KeyError):
        samples.load("os")


def test_a_service_that_is_not_running_is_named_with_the_fix(monkeypatch, tmp_path, capsys):
    import samples.__main__ as cli

    monkeypatch.setenv("OPENAI_URI", "http://127.0.0.1:9")  # the discard port: nothing listens
    assert cli.main(["math_tutor", "--out", str(tmp_path)]) == 2
    assert "Cannot reach http://127.0.0.1:9. Start the service with `make run`" in capsys.readouterr().err
