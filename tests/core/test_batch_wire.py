"""The $batch framing, byte for byte: what is sent and how answers (whole, refused, odd) are read."""

from __future__ import annotations

import pytest

from core.batch_wire import MalformedBatchResponse, PartResponse, SubRequest, decode, encode

URL = "http://127.0.0.1:10002/devstoreaccount1/threads"


def _response(*parts: bytes, newline: bytes = b"\r\n", quoted: bool = False) -> tuple[str, bytes]:
    """A batch response as the service frames it: one changeset holding `parts`."""
    n = newline
    changeset = b"".join(b"--changesetresponse_c" + n + b"Content-Type: application/http" + n +
                         b"Content-Transfer-Encoding: binary" + n + n + part + n for part in parts)
    body = (b"--batchresponse_b" + n + b"Content-Type: multipart/mixed; boundary=changesetresponse_c" + n + n +
            changeset + b"--changesetresponse_c--" + n + b"--batchresponse_b--" + n)
    boundary = '"batchresponse_b"' if quoted else "batchresponse_b"
    return f"multipart/mixed; boundary={boundary}", body


NO_CONTENT = b'HTTP/1.1 204 No Content\r\nDataServiceVersion: 3.0;\r\nETag: W/"datetime\'1\'"\r\n'
REFUSED = (b"HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json;charset=utf-8\r\n\r\n"
           b'{"odata.error":{"code":"UpdateConditionNotSatisfied","message":{"value":"1:not satisfied"}}}')


def test_encode_frames_every_request_in_one_changeset_in_order():
    content_type, body = encode([
        SubRequest("POST", URL, {"Content-Type": "application/json", "Content-Length": "999"}, b'{"a": "\\u00fc"}'),
        SubRequest("DELETE", f"{URL}(PartitionKey='p',RowKey='r')", {"If-Match": "*"}),
    ], "batch_B", "changeset_C")
    assert content_type == "multipart/mixed; boundary=batch_B"
    assert body == (
        b"--batch_B\r\nContent-Type: multipart/mixed; boundary=changeset_C\r\n\r\n"
        b"--changeset_C\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 0\r\n\r\n"
        b"POST " + URL.encode() + b" HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
        b'{"a": "\\u00fc"}\r\n'
        b"--changeset_C\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
        b"DELETE " + URL.encode() + b"(PartitionKey='p',RowKey='r') HTTP/1.1\r\nIf-Match: *\r\n\r\n\r\n"
        b"--changeset_C--\r\n--batch_B--\r\n")


def test_what_encode_frames_decodes_back_to_the_same_requests_shape():
    _, body = encode([SubRequest("PUT", URL, {"If-Match": "x"}, b"{}")], "batch_1", "changeset_2")
    # the request framing is the response framing with requests inside: read it as a response would be
    framed = body.replace(b"PUT " + URL.encode() + b" HTTP/1.1", b"HTTP/1.1 204 No Content")
    assert decode("multipart/mixed; boundary=batch_1", framed) == [
        PartResponse(204, {"if-match": "x", "content-length": "2"}, b"{}")]


def test_decode_reads_each_operations_status_and_etag_in_order():
    content_type, body = _response(NO_CONTENT, NO_CONTENT.replace(b"'1'", b"'2'"))
    parts = decode(content_type, body)
    assert [part.status for part in parts] == [204, 204]
    assert [part.headers["etag"] for part in parts] == ['W/"datetime\'1\'"', 'W/"datetime\'2\'"']
    assert [part.body for part in parts] == [b"", b""]


def test_decode_reads_a_refusal_with_its_body_intact():
    [part] = decode(*_response(REFUSED))
    assert part.status == 412 and part.headers["content-type"].startswith("application/json")
    assert part.body == REFUSED.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
@pytest.mark.parametrize("quoted", [False, True])
def test_decode_tolerates_bare_newlines_and_quoted_boundaries(newline, quoted):
    part = NO_CONTENT.replace(b"\r\n", newline)
    [read] = decode(*_response(part, newline=newline, quoted=quoted))
    assert read.status == 204 and read.headers["etag"] == 'W/"datetime\'1\'"'


def test_a_body_mentioning_a_status_line_is_not_read_as_another_response():
    tricky = REFUSED.replace(b"1:not satisfied", b"1:HTTP/1.1 200 OK\\r\\n--changeset")
    [part] = decode(*_response(tricky))
    assert part.status == 412 and b"HTTP/1.1 200 OK" in part.body


def test_a_response_that_is_not_a_whole_batch_is_refused_by_name():
    content_type, body = _response(NO_CONTENT)
    cases = [
        ("application/json", body),  # no boundary
        (content_type, body[: len(body) // 2]),  # cut short: never closed
        (content_type, b""),
        (content_type, body.replace(b"HTTP/1.1 204 No Content", b"204 No Content")),  # no status line
        (content_type, body.replace(b"ETag:", b"ETag")),  # a header without a colon
        (content_type, body.replace(b"Content-Type: application/http", b"Content-Type: text/plain")),
        (content_type, b"--batchresponse_b--\r\n"),  # closed with nothing inside
    ]
    for case_type, case_body in cases:
        with pytest.raises(MalformedBatchResponse):
            decode(case_type, case_body)


def test_a_body_less_response_ending_in_a_blank_line_as_the_table_service_sends_it():
    service_style = NO_CONTENT.replace(b"HTTP/1.1 204 No Content\r\n", b"HTTP/1.1 204 No Content\r\n"
                                       b"X-Content-Type-Options: nosniff\r\nPreference-Applied: return-no-content\r\n")
    parts = decode(*_response(service_style + b"\r\n", service_style + b"\r\n"))
    assert [(part.status, part.headers["etag"], part.body) for part in parts] == [(204, 'W/"datetime\'1\'"', b"")] * 2
    assert parts[0].headers["preference-applied"] == "return-no-content"
