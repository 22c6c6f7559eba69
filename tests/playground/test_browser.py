"""The playground in a real browser: headless Chromium (Debian's, driven through its chromedriver by selenium)
against devhost with the scripted model, doing what a person does: create an assistant, upload a CSV, ask,
read the answer, the code step, the chart and a download; answer a function call; stop a run; read why a
run failed; keep threads in the browser. Screenshots of the main views are saved under
.artifacts/playground/ (not committed): 1 and 5 the code-interpreter answer at laptop and phone width,
2 a pending function call, 3 its answered run, 4 a failed run's message, 6 the recent threads.

Selenium rather than playwright-core: the test stays in pytest with the suite's fixtures (devhost, the
scripted model, SDK clients to cross-check), in one language, and Debian's chromium-driver matches its
chromium exactly, so nothing is downloaded at run time.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from scripted_model import reply_error, reply_text, reply_tool_calls
from tests.support.devhost_proc import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = ROOT / ".artifacts" / "playground"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
LAPTOP, PHONE = (1366, 900), (390, 844)
CSV = b"region,amount\nnorth,10\nsouth,32\nnorth,5\n"
ANALYSIS = """import pandas as pd
import matplotlib.pyplot as plt
df = pd.read_csv('/mnt/data/sales.csv')
totals = df.groupby('region').amount.sum()
print(totals.to_dict())
totals.plot.bar(title='Sales per region')
totals.to_csv('/mnt/data/totals.csv')
"""
WEATHER = '[{"name": "get_weather", "description": "Weather in a city", "parameters": {"type": "object", ' \
          '"properties": {"city": {"type": "string"}}, "required": ["city"]}}]'

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="headless Chromium and chromedriver are not installed (`make install` installs Debian's "
           "chromium and chromium-driver where apt-get exists)")]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="playground-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}", f"--window-size={LAPTOP[0]},{LAPTOP[1]}"]:
        options.add_argument(flag)
    downloads = Path(profile) / "downloads"
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The playground as a person uses it, with waits instead of sleeps."""

    def __init__(self, driver, url: str, key: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.By, self.wait = driver, By, WebDriverWait(driver, 30, poll_frequency=0.1)
        driver.set_window_size(*LAPTOP)
        driver.get(url)
        self.until(lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))
        self.fill("api-key", key)
        self.css("#key-form button[type=submit]").click()
        self.until(lambda d: self.css("#assistant-select").get_attribute("childElementCount") != "0")

    def css(self, selector: str):
        return self.driver.find_element(self.By.CSS_SELECTOR, selector)

    def all(self, selector: str):
        return self.driver.find_elements(self.By.CSS_SELECTOR, selector)

    def until(self, condition, what: str = ""):
        return self.wait.until(condition, message=what)

    def text_of(self, selector: str) -> str:
        """The visible text of every match, read in one script (elements re-rendered meanwhile cannot go stale)."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText).join(' ')", selector)

    def wait_text(self, selector: str, text: str) -> None:
        self.until(lambda d: text in self.text_of(selector), f"{text!r} in {selector}: {self.text_of(selector)!r}")

    def fill(self, element_id: str, text: str) -> None:
        field = self.driver.find_element(self.By.ID, element_id)
        field.clear()
        field.send_keys(text)

    def create_assistant(self, name: str, *, code: bool = False, functions: str = "") -> None:
        self.css("#new-assistant").click()
        self.fill("assistant-name", name)
        self.fill("assistant-model", "gpt-scripted")
        if self.css("#tool-code").is_selected() != code:
            self.css("#tool-code").click()
        self.driver.execute_script("document.getElementById('assistant-functions').value = arguments[0]", functions)
        self.css("#save-assistant").click()
        self.until(lambda d: name in self.text_of("#assistant-select option:checked"), f"assistant {name} selected")

    def new_thread(self) -> None:
        self.css("#new-thread").click()

    def send(self, text: str) -> None:
        self.fill("prompt", text)
        from selenium.webdriver.common.keys import Keys
        self.css("#prompt").send_keys(Keys.ENTER)

    def run_ended(self, status: str) -> None:
        try:
            self.until(lambda d: self.text_of("#run-badge") == status and self.css("#send").is_enabled())
        except Exception:
            raise AssertionError(f"run {status} expected; badge says {self.text_of('#run-badge')!r}, the page says "
                                 f"{self.text_of('#notice')!r} {self.text_of('#run-error')!r}") from None

    def image_loaded(self, selector: str) -> bool:
        return self.driver.execute_script(
            "const i = document.querySelector(arguments[0]); return !!i && i.complete && i.naturalWidth > 100;", selector)

    def screenshot(self, name: str, size=LAPTOP, show: str = "") -> None:
        self.driver.set_window_size(*size)
        if show:
            self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", show)
        self.driver.save_screenshot(str(ARTIFACTS / name))
        self.driver.set_window_size(*LAPTOP)


@pytest.fixture
def page(browser, page_url, client):
    return Page(browser, page_url, client.api_key)


def marker() -> str:
    return "tok" + uuid.uuid4().hex[:10]


def test_code_interpreter_with_a_csv_answer_chart_and_download(page, scripted, client, tmp_path, server_streams):
    tok = marker()
    page.create_assistant(f"Sales analyst {tok}", code=True)
    page.new_thread()
    csv = tmp_path / "sales.csv"
    csv.write_bytes(CSV)
    page.css("#attach").send_keys(str(csv))
    page.wait_text("#attachment-list", "sales.csv")
    scripted.client.enqueue(
        reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": ANALYSIS}}], match=tok),
        reply_text("North sold 15 and south 32. Totals: [totals.csv](sandbox:/mnt/data/totals.csv)", match=tok))

    page.send(f"Total sales per region, with a chart? {tok}")

    page.wait_text(".message.assistant", "North sold 15 and south 32.")
    page.run_ended("completed")
    page.wait_text(".step .code-input", "pd.read_csv('/mnt/data/sales.csv')")
    page.wait_text(".step .logs", "{'north': 15, 'south': 32}")
    page.until(lambda d: page.image_loaded(".step img.inline-image"), "the chart in the code step")
    page.until(lambda d: page.image_loaded(".message.assistant img.inline-image"), "the chart in the answer")
    assert "sales.csv" in page.text_of(".message.user .chips")
    assert "tokens" in page.text_of("#run-summary")
    # Streamed when the server streams; polled (after its 400 for `stream: true`) when it does not.
    assert page.text_of("#run-transport").startswith("streamed" if server_streams else "polled")
    link = page.css(".message.assistant a.download")
    assert link.text == "totals.csv" and link.get_attribute("download") == "totals.csv"
    link.click()
    page.until(lambda d: link.get_attribute("href").startswith("blob:"), "the download fetched")
    saved = page.driver.downloads / "totals.csv"
    page.until(lambda d: saved.exists() and saved.read_bytes(), "the browser saved totals.csv")
    assert saved.read_bytes() == b"region,amount\nnorth,15\nsouth,32\n"
    page.screenshot("1-code-interpreter-laptop.png")
    page.screenshot("5-code-interpreter-phone.png", PHONE, show=".message.assistant")
    thread_id = page.driver.execute_script("return JSON.parse(localStorage.getItem('playground.threads'))[0].id")
    assert [m.role for m in client.beta.threads.messages.list(thread_id=thread_id).data] == ["assistant", "user"]


def test_phone_width_has_no_sideways_scroll_and_every_field_is_labelled(page):
    page.driver.set_window_size(*PHONE)
    page.until(lambda d: d.execute_script("return window.innerWidth") <= PHONE[0])
    overflow = page.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    unlabelled = page.driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea')]
          .filter(e => e.type !== 'hidden' && !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id);""")
    page.driver.set_window_size(*LAPTOP)
    assert overflow <= 1 and unlabelled == []


def test_a_function_call_is_answered_through_the_page(page, scripted, server_streams):
    tok = marker()
    page.create_assistant(f"Weather {tok}", functions=WEATHER)
    page.new_thread()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok),
        reply_text(f"It is sunny in Oslo {tok}", match=tok))

    page.send(f"Weather in Oslo? {tok}")

    page.until(lambda d: page.css("#action-form").is_displayed(), "the pending call form")
    assert "get_weather" in page.text_of("#action-calls legend") and '"city": "Oslo"' in page.text_of("#action-calls pre")
    assert page.text_of("#run-badge") == "requires_action"
    page.css("#action-calls textarea").send_keys("21C and sunny")
    page.screenshot("2-requires-action.png")
    page.css("#action-form button[type=submit]").click()

    page.wait_text(".message.assistant", f"It is sunny in Oslo {tok}")
    page.run_ended("completed")
    page.wait_text(".step .output", "21C and sunny")
    assert page.text_of("#run-transport").startswith("streamed" if server_streams else "polled")
    assert '"city": "Oslo"' in page.text_of(".step .arguments")
    tool_message = [m for m in scripted.client.requests()[-1]["messages"] if m["role"] == "tool"]
    assert tool_message[0]["content"] == "21C and sunny"
    page.screenshot("3-function-answered.png")


def test_stop_cancels_the_run(page, scripted):
    tok = marker()
    page.create_assistant(f"Patient {tok}")
    page.new_thread()
    scripted.client.enqueue(reply_error(429, retry_after=20, match=tok), reply_text(f"never used {tok}", match=tok))

    page.send(f"Take your time {tok}")
    page.until(lambda d: page.css("#stop").is_enabled() and page.text_of("#run-badge") in ("queued", "in_progress"))
    started = time.monotonic()
    page.css("#stop").click()

    page.run_ended("cancelled")
    assert time.monotonic() - started < 10
    page.wait_text("#run-error", "Stopped: the run was cancelled.")
    assert not page.css("#stop").is_enabled()


def test_stop_also_cancels_a_run_waiting_for_function_outputs(page, scripted):
    tok = marker()
    page.create_assistant(f"Waiting {tok}", functions=WEATHER)
    page.new_thread()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Lima"}}], match=tok))

    page.send(f"Weather in Lima? {tok}")
    page.until(lambda d: page.css("#action-form").is_displayed(), "the pending call form")
    page.css("#stop").click()

    page.run_ended("cancelled")
    assert not page.css("#action-form").is_displayed()
    page.wait_text("#run-error", "Stopped: the run was cancelled.")


def test_a_failed_run_says_why(page, scripted):
    tok = marker()
    page.create_assistant(f"Fragile {tok}")
    page.new_thread()
    scripted.client.enqueue(reply_error(400, message="Unsupported value for this model", match=tok))

    page.send(f"Break, please {tok}")

    page.run_ended("failed")
    page.wait_text("#run-error", "The run failed because the model service returned an error")
    assert "Unsupported value for this model" in page.text_of("#run-error")
    assert page.css("#run-error").get_attribute("role") == "alert"
    page.screenshot("4-failed-run.png")


def test_threads_are_remembered_switched_and_deleted(page, scripted, client):
    first, second = marker(), marker()
    page.create_assistant(f"Echo {first}")
    for tok in (first, second):
        page.new_thread()
        scripted.client.enqueue(reply_text(f"answer {tok}", match=tok))
        page.send(f"question {tok}")
        page.wait_text(".message.assistant", f"answer {tok}")
        page.run_ended("completed")
    titles = page.text_of("#thread-list")
    assert titles.index(second) < titles.index(first)  # newest first

    page.driver.refresh()  # kept in the browser: the newest thread opens again
    page.until(lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))
    page.wait_text(".message.assistant", f"answer {second}")
    older = next(b for b in page.all("#thread-list button.thread") if first in b.text)
    older.click()
    page.wait_text(".message.user", f"question {first}")
    assert second not in page.text_of("#messages")
    page.driver.execute_script("document.getElementById('assistant-details').open = false")
    page.screenshot("6-threads.png")

    thread_id = page.driver.execute_script(
        "return JSON.parse(localStorage.getItem('playground.threads')).find(t => t.title.includes(arguments[0])).id", first)
    page.driver.execute_script("window.confirm = () => true")
    next(li for li in page.all("#thread-list li") if first in li.text).find_element(
        page.By.CSS_SELECTOR, "button.quiet").click()
    page.until(lambda d: first not in page.text_of("#thread-list"), "the thread left the list")
    with pytest.raises(Exception) as gone:
        client.beta.threads.retrieve(thread_id)
    assert getattr(gone.value, "status_code", None) == 404
