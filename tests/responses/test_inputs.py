"""Image and file input parts through client.responses and client.conversations (strict validation):
the model receives images as Chat Completions image parts and files as their text; the thread and
the items show them back in each API's shape; bad parts are 400/404 in the error envelope."""

from __future__ import annotations

import base64
import io

import openai
import pytest

from scripted_model import reply_text
from tests.file_search.documents import pdf_bytes
from tests.runs.conftest import MODEL, requests_for, token

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _user(*parts: dict) -> list[dict]:
    return [{"role": "user", "content": list(parts)}]


def _image_parts(body: dict) -> list[dict]:
    return [part for message in body["messages"] if isinstance(message["content"], list)
            for part in message["content"] if part["type"] == "image_url"]


def test_a_data_url_image_reaches_the_model_and_is_shown_back(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("A single pixel.", match=tok))
    response = fresh.responses.create(model=MODEL, input=_user(
        {"type": "input_text", "text": f"What is this? {tok}"},
        {"type": "input_image", "image_url": PNG_URL, "detail": "low"}))
    assert response.status == "completed" and response.output_text == "A single pixel."
    asked = requests_for(scripted, tok)[-1]
    user = asked["messages"][-1]
    assert user["content"] == [{"type": "text", "text": f"What is this? {tok}"},
                               {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "low"}}]
    items = fresh.responses.input_items.list(response.id).data
    assert [part.type for part in items[0].content] == ["input_text", "input_image"]
    assert items[0].content[1].image_url == PNG_URL and items[0].content[1].detail == "low"


def test_an_uploaded_image_is_sent_as_its_bytes_and_is_a_thread_image_file(fresh, scripted):
    tok = token()
    image = fresh.files.create(file=("dot.png", io.BytesIO(PNG)), purpose="vision")
    conversation = fresh.conversations.create()
    scripted.client.enqueue(reply_text("Seen.", match=tok))
    response = fresh.responses.create(model=MODEL, conversation=conversation.id, input=_user(
        {"type": "input_text", "text": f"Look {tok}"}, {"type": "input_image", "file_id": image.id, "detail": "auto"}))
    assert response.output_text == "Seen."
    assert _image_parts(requests_for(scripted, tok)[-1]) == [
        {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "auto"}}]
    message = fresh.beta.threads.messages.list(conversation.id, order="asc").data[0]
    assert [part.type for part in message.content] == ["text", "image_file"]
    assert message.content[1].image_file.file_id == image.id
    item = fresh.conversations.items.list(conversation.id, order="asc").data[0]
    assert item.content[1].type == "input_image" and item.content[1].file_id == image.id


def test_file_data_is_stored_attached_and_its_text_given_to_the_model(fresh, scripted):
    tok = token()
    pdf = pdf_bytes(["The launch code is PERSIMMON."])
    scripted.client.enqueue(reply_text("PERSIMMON.", match=tok))
    response = fresh.responses.create(model=MODEL, input=_user(
        {"type": "input_file", "filename": "codes.pdf",
         "file_data": "data:application/pdf;base64," + base64.b64encode(pdf).decode()},
        {"type": "input_text", "text": f"What is the code? {tok}"}))
    assert response.output_text == "PERSIMMON."
    user = requests_for(scripted, tok)[-1]["messages"][-1]
    assert isinstance(user["content"], str) and "PERSIMMON" in user["content"] and tok in user["content"]
    shown = fresh.responses.input_items.list(response.id).data[0].content
    assert [part.type for part in shown] == ["input_file", "input_text"] and shown[0].filename == "codes.pdf"
    stored = fresh.files.retrieve(shown[0].file_id)
    assert stored.purpose == "user_data" and stored.filename == "codes.pdf" and stored.bytes == len(pdf)
    assert fresh.files.content(stored.id).read() == pdf


def test_an_uploaded_text_file_is_an_attachment_both_apis_show(fresh, scripted):
    tok = token()
    notes = fresh.files.create(file=("notes.md", io.BytesIO(b"# Notes\nThe cat is called Miso.")),
                               purpose="user_data")
    conversation = fresh.conversations.create(items=_user(
        {"type": "input_text", "text": "Here are my notes."}, {"type": "input_file", "file_id": notes.id}))
    scripted.client.enqueue(reply_text("Miso.", match=tok))
    response = fresh.responses.create(model=MODEL, conversation=conversation.id, input=f"The cat's name? {tok}")
    assert response.output_text == "Miso."
    seen = requests_for(scripted, tok)[-1]["messages"]
    assert "The cat is called Miso." in seen[0]["content"] and seen[0]["content"].startswith("Here are my notes.")
    message = fresh.beta.threads.messages.list(conversation.id, order="asc").data[0]
    assert [(attachment.file_id, attachment.tools) for attachment in message.attachments] == [(notes.id, [])]
    item = fresh.conversations.items.list(conversation.id, order="asc").data[0]
    assert [(part.type, getattr(part, "file_id", None)) for part in item.content] == [
        ("input_text", None), ("input_file", notes.id)]


def _error(fresh: openai.OpenAI, *parts: dict, kind: type[openai.APIStatusError] = openai.BadRequestError) -> dict:
    with pytest.raises(kind) as raised:
        fresh.responses.create(model=MODEL, input=_user(*parts))
    return raised.value.body


def test_bad_parts_are_refused_in_the_envelope(fresh, other_client):
    assert _error(fresh, {"type": "input_file", "filename": "a.txt", "file_data": "not base64!"})["param"] \
        == "input[0].content[0]"
    assert _error(fresh, {"type": "input_image", "image_url": "data:image/png;base64,%%%"})["code"] \
        == "invalid_value"
    assert _error(fresh, {"type": "input_image", "image_url": "data:text/plain;base64,aGk="})["code"] \
        == "invalid_image_url"
    assert _error(fresh, {"type": "input_file", "file_data": base64.b64encode(b"x").decode()})["code"] \
        == "missing_required_parameter"
    assert _error(fresh, {"type": "input_file", "file_url": "https://example.com/a.pdf"})["code"] \
        == "unsupported_value"
    unreadable = _error(fresh, {"type": "input_file", "filename": "a.pdf",
                                "file_data": base64.b64encode(b"not a pdf").decode()})
    assert unreadable["code"] == "invalid_file" and unreadable["param"] == "input[0].content[0].file_data"
    missing = _error(fresh, {"type": "input_image", "file_id": "file-" + "a" * 24}, kind=openai.NotFoundError)
    assert missing["param"] == "input[0].content[0].file_id"
    foreign = other_client.files.create(file=("dot.png", io.BytesIO(PNG)), purpose="vision")
    _error(fresh, {"type": "input_image", "file_id": foreign.id}, kind=openai.NotFoundError)
    text = fresh.files.create(file=("a.txt", io.BytesIO(b"hello")), purpose="user_data")
    assert _error(fresh, {"type": "input_image", "file_id": text.id})["code"] == "invalid_image_format"
    with pytest.raises(openai.BadRequestError, match="user messages only"):
        fresh.responses.create(model=MODEL, input=[{"role": "developer", "content": [
            {"type": "input_image", "image_url": PNG_URL}]}])


def test_too_large_inline_data_is_refused(fresh):
    big_image = "data:image/png;base64," + base64.b64encode(PNG + b"a" * (20 * 2**20)).decode()
    body = _error(fresh, {"type": "input_image", "image_url": big_image})
    assert "at most 20,971,520 bytes" in body["message"] and body["type"] == "invalid_request_error"
    big_file = base64.b64encode(b"a" * (24 * 2**20)).decode()  # a body past the 32 MB JSON bodies may have
    body = _error(fresh, {"type": "input_file", "filename": "big.txt", "file_data": big_file},
                  kind=openai.APIStatusError)
    assert body["code"] == "request_too_large"
    assert fresh.files.list(purpose="user_data").data == []


def test_an_item_id_given_back_is_bounded(fresh):
    with pytest.raises(openai.BadRequestError) as refused:
        fresh.responses.create(model=MODEL, input=[
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}", "id": "fc_" + "x" * 200},
            {"type": "function_call_output", "call_id": "call_1", "output": "done"}])
    assert refused.value.body["param"] == "input[0].id"
