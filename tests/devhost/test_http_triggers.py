"""devhost serves HTTP triggers where `func start` would: prefix, route params, methods, bodies."""

import json


def test_route_params_query_headers_and_binary_body(sample_host):
    payload = bytes(range(256)) * 10
    status, body, headers = sample_host.request(
        "POST", "things/books/42?q=hello%20world", raw=payload,
        headers={"X-Test": "yes", "Content-Type": "application/octet-stream"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"category": "books", "item_id": "42", "method": "POST", "q": "hello world",
                                "header": "yes", "body_len": 2560, "body_head": [0, 1, 2, 3]}


def test_literal_route_beats_parameter_and_constraints_apply(sample_host):
    assert sample_host.request("GET", "things/special/7")[1] == b"special 7"
    status, _, _ = sample_host.request("GET", "things/books/not-a-number")
    assert status == 404


def test_unknown_path_is_404_and_wrong_method_is_405(sample_host):
    assert sample_host.request("GET", "nothing/here")[0] == 404
    assert sample_host.request("DELETE", "things/books/1")[0] == 405


def test_each_invocation_is_logged_on_one_line(sample_host):
    sample_host.request("GET", "things/special/1")
    lines = [line for line in sample_host.process.log().splitlines() if "Functions.get_special_thing" in line]
    assert lines and "Succeeded" in lines[-1] and "Duration=" in lines[-1]


def test_a_failing_function_is_a_bare_500_logged_as_failed(sample_host):
    status, body, _ = sample_host.request("GET", "boom")
    assert (status, body) == (500, b"")
    log = sample_host.process.log()
    assert "this function always fails" in log
    assert any("Functions.boom" in line and "Failed" in line for line in log.splitlines())
    assert sample_host.request("GET", "ping")[:2] == (200, b"pong")  # the host serves on

