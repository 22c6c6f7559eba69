"""A small function app that exercises every Durable API devhost must execute.

Activities record each execution in a file (ACTIVITY_LOG), so tests can prove
that a restart does not run a completed activity again.
"""

import json
import os
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _record(name: str, value) -> None:
    with open(os.environ["ACTIVITY_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"activity": name, "value": value}) + "\n")


@app.route(route="things/{category}/{item_id:int}", methods=["GET", "POST"])
def get_thing(req: func.HttpRequest) -> func.HttpResponse:
    body = req.get_body()
    return func.HttpResponse(json.dumps({
        "category": req.route_params["category"], "item_id": req.route_params["item_id"],
        "method": req.method, "q": req.params.get("q"), "header": req.headers.get("x-test"),
        "body_len": len(body), "body_head": list(body[:4]),
    }), mimetype="application/json")


@app.route(route="things/special/{item_id:int}", methods=["GET"])
def get_special_thing(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("special " + req.route_params["item_id"])


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], None, req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="status/{instance_id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def status(req: func.HttpRequest, client) -> func.HttpResponse:
    state = await client.get_status(req.route_params["instance_id"])
    return func.HttpResponse(json.dumps({
        "runtimeStatus": state.runtime_status.value if state.runtime_status else None,
        "output": state.output, "customStatus": state.custom_status}), mimetype="application/json")


@app.route(route="raise/{instance_id}/{event}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def raise_event(req: func.HttpRequest, client) -> func.HttpResponse:
    await client.raise_event(req.route_params["instance_id"], req.route_params["event"], req.get_json())
    return func.HttpResponse(status_code=202)


@app.route(route="terminate/{instance_id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def terminate(req: func.HttpRequest, client) -> func.HttpResponse:
    await client.terminate(req.route_params["instance_id"], "test says stop")
    return func.HttpResponse(status_code=202)


@app.timer_trigger(schedule=os.environ.get("SAMPLE_TIMER_SCHEDULE", "0 0 0 1 1 *"), arg_name="timer",
                   run_on_startup=os.environ.get("SAMPLE_TIMER_ON_STARTUP") == "true")
@app.durable_client_input(client_name="client")
async def tick(timer: func.TimerRequest, client) -> None:
    """Records each firing, after one call through its Durable client (which needs the system key)."""
    instances = await client.get_status_all()
    _record("tick", {"past_due": timer.past_due, "instances": len(instances)})


@app.orchestration_trigger(context_name="context")
def everything(context: df.DurableOrchestrationContext):
    """Activity, retry, timer, external event raced with a timer, fan-out, custom status."""
    settings = context.get_input()
    context.set_custom_status({"stage": "start"})
    doubled = yield context.call_activity("double", 21)
    flaky = yield context.call_activity_with_retry(
        "flaky", df.RetryOptions(first_retry_interval_in_milliseconds=100, max_number_of_attempts=3),
        settings["flaky_key"])
    yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=200))
    context.set_custom_status({"stage": "waiting"})
    approval = context.wait_for_external_event("approval")
    deadline = context.create_timer(context.current_utc_datetime + timedelta(seconds=30))
    winner = yield context.task_any([approval, deadline])
    if winner == approval:
        deadline.cancel()
    fanned = yield context.task_all([context.call_activity("double", n) for n in range(5)])
    context.set_custom_status({"stage": "done"})
    return {"doubled": doubled, "flaky": flaky, "approved": winner == approval,
            "approval": approval.result if winner == approval else None, "fanned": fanned}


@app.orchestration_trigger(context_name="context")
def sequence(context: df.DurableOrchestrationContext):
    """N sequential activities; each sleeps `delay` seconds and records itself."""
    settings = context.get_input()
    results = []
    for step in range(settings["steps"]):
        results.append((yield context.call_activity("slow_step", {"step": step, "delay": settings["delay"]})))
    return results


@app.orchestration_trigger(context_name="context")
def countdown(context: df.DurableOrchestrationContext):
    """continue_as_new until the counter reaches zero."""
    remaining = context.get_input()
    if remaining <= 0:
        return "liftoff"
    yield context.call_activity("double", remaining)
    context.continue_as_new(remaining - 1)


_calls_seen = {"count": 0}


@app.orchestration_trigger(context_name="context")
def fickle(context: df.DurableOrchestrationContext):
    """Deliberately non-deterministic: schedules a different activity on replay."""
    _calls_seen["count"] += 1
    name = "double" if _calls_seen["count"] == 1 else "slow_step"
    first = yield context.call_activity(name, 1)
    return first


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    """An activity that always fails, retried twice, then the orchestration fails."""
    yield context.call_activity_with_retry(
        "always_fails", df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=2), None)
    return "unreachable"


@app.activity_trigger(input_name="number")
def double(number: int) -> int:
    _record("double", number)
    return number * 2


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    """Fails on its first two calls for a key, then succeeds."""
    _record("flaky", key)
    with open(os.environ["ACTIVITY_LOG"], encoding="utf-8") as log:
        attempts = sum(1 for line in log if json.loads(line) == {"activity": "flaky", "value": key})
    if attempts < 3:
        raise RuntimeError(f"flaky attempt {attempts}")
    return f"ok after {attempts}"


@app.activity_trigger(input_name="payload")
def slow_step(payload: dict) -> int:
    time.sleep(payload["delay"])
    _record("slow_step", payload["step"])
    return payload["step"]


@app.activity_trigger(input_name="payload")
def always_fails(payload) -> None:
    _record("always_fails", payload)
    raise ValueError("this activity always fails")


@app.orchestration_trigger(context_name="context")
def noop_sequence(context: df.DurableOrchestrationContext):
    """N sequential no-op activities: the engine's own overhead per step (bench/)."""
    for step in range(context.get_input()["steps"]):
        yield context.call_activity("noop", step)
    return "done"


@app.activity_trigger(input_name="value")
def noop(value):
    return value


@app.route(route="ping", methods=["GET"])
def ping(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("pong")


@app.route(route="boom", methods=["GET"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("this function always fails")
