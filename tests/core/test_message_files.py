"""What a message shows the model of its files: the pure decisions (core.message_files, core.wire.response_parts)."""

import pytest
from pydantic import ValidationError

from core.message_files import bounded_text, data_url, image_type
from core.wire.response_parts import InputFile, InputImage


@pytest.mark.parametrize("head, kind", [
    (b"\x89PNG\r\n\x1a\n....", "image/png"), (b"\xff\xd8\xff\xe0", "image/jpeg"), (b"GIF89a..", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"%PDF-1.7", None), (b"", None)])
def test_image_type_is_told_by_the_bytes(head, kind):
    assert image_type(head) == kind


def test_bounded_text_says_what_it_left_out():
    assert bounded_text("abc", 3) == "abc"
    assert bounded_text("abcdef", 3) == "abc\n[... 3 more characters of this file not shown]"
    assert data_url(b"hi", "image/png") == "data:image/png;base64,aGk="


def test_an_image_is_stored_as_the_assistants_part_it_is():
    by_url = InputImage(type="input_image", image_url="https://example.com/a.png", detail="original")
    assert by_url.content_part() == {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                                                        "detail": "high"}}
    by_file = InputImage(type="input_image", file_id="file-x")
    assert by_file.content_part() == {"type": "image_file", "image_file": {"file_id": "file-x", "detail": "auto"}}


@pytest.mark.parametrize("fields", [
    {}, {"image_url": "https://a/b.png", "file_id": "file-x"}, {"image_url": "ftp://a/b.png"},
    {"image_url": "data:image/png;base64,@@"}, {"image_url": "data:application/pdf;base64,aGk="}])
def test_bad_images_are_refused(fields):
    with pytest.raises(ValidationError):
        InputImage.model_validate({"type": "input_image", **fields})


def test_file_data_is_base64_bare_or_as_a_data_url():
    bare = InputFile(type="input_file", filename="a.txt", file_data="aGk=")
    url = InputFile(type="input_file", filename="a.txt", file_data="data:text/plain;base64,aGk=")
    assert bare.data() == url.data() == b"hi"
    for fields in ({"file_data": "aGk="}, {"file_id": "file-x", "file_data": "aGk=", "filename": "a"},
                   {"file_url": "https://a/b.pdf"}, {"filename": "a.txt", "file_data": "a=b"}):
        with pytest.raises(ValidationError):
            InputFile.model_validate({"type": "input_file", **fields})
