"""The pure parts of file_search: chunking, parsing, fusion, filters, segments, the in-process index."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import numpy as np
import pytest

from core.file_search import chunking, parsing, ranking
from core.file_search.index import ChunkIndex
from core.file_search.segments import Segment, decode, encode
from scripted_model import embeddings as scripted_embeddings
from tests.file_search.documents import docx_bytes, pdf_bytes, pptx_bytes


def words(count: int) -> str:
    return " ".join(f"w{index}" for index in range(count))


def one_per_word(piece: str) -> int:
    return 1


def test_auto_chunking_is_800_tokens_overlapping_by_400():
    chunks = chunking.chunk(words(2000), None, one_per_word)
    assert [len(chunk.split()) for chunk in chunks] == [800, 800, 800, 800]
    assert chunks[1].split()[0] == "w400" and chunks[-1].split()[-1] == "w1999"
    assert chunking.resolved({"type": "auto"}) == chunking.AUTO


def test_static_chunking_and_no_overlap():
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
    chunks = chunking.chunk(words(250), strategy, one_per_word)
    assert [len(chunk.split()) for chunk in chunks] == [100, 100, 50]
    assert " ".join(chunks) == words(250)


def test_chunking_keeps_an_oversized_word_and_drops_blank_text():
    assert chunking.chunk("   \n  ", None, one_per_word) == []
    assert chunking.chunk("x" * 10_000, None, len) == ["x" * 10_000]


def test_chunking_with_the_default_counter_stays_within_the_budget():
    text = "The quick brown fox jumps over the lazy dog. " * 500
    chunks = chunking.chunk(text, None)
    count = chunking.tokenizer()
    assert len(chunks) > 2 and all(count(chunk) <= 800 for chunk in chunks)


@pytest.mark.parametrize("name, data, expected", [
    ("notes.md", b"# Title\nbody", "# Title\nbody"),
    ("data.json", b'{"a": 1}', '{"a": 1}'),
    ("page.html", b"<html><head><style>x{}</style><script>evil()</script></head><body><p>Hello</p>"
                  b"<p>world</p></body></html>", "Hello\nworld"),
])
def test_text_formats(name, data, expected):
    assert parsing.text_of(name, data) == expected


def test_office_and_pdf_documents():
    assert "moon landing" in parsing.text_of("a.pdf", pdf_bytes(["The moon landing was in 1969."]))
    assert "quarterly revenue" in parsing.text_of("a.docx", docx_bytes(["Our quarterly revenue grew."]))
    assert "slide about otters" in parsing.text_of("a.pptx", pptx_bytes(["A slide about otters"]))


@pytest.mark.parametrize("name, data, code", [
    ("photo.png", b"\x89PNG", "unsupported_file"),
    ("noextension", b"text", "unsupported_file"),
    ("broken.pdf", b"%PDF-1.4 this is not a pdf", "invalid_file"),
    ("broken.docx", b"PK not a zip", "invalid_file"),
    ("latin1.txt", "café".encode("latin-1"), "invalid_file"),
    ("bad.json", b"{not json", "invalid_file"),
    ("empty.txt", b"  \n ", "invalid_file"),
])
def test_unreadable_files_name_openai_codes(name, data, code):
    with pytest.raises(parsing.Unreadable) as caught:
        parsing.text_of(name, data)
    assert caught.value.code == code


def test_reciprocal_rank_fusion():
    fused = ranking.fuse([["a", "b", "c"], ["b", "a", "d"]], limit=3)
    assert [key for key, _ in fused] in (["a", "b", "c"], ["b", "a", "c"])
    assert fused[0][1] == pytest.approx((1 / 61 + 1 / 62) / (2 / 61), abs=1e-6)
    assert ranking.fuse([["x"], None], 5) == [("x", 1.0)]  # keyword only: first is 1.0
    assert ranking.fuse([None, None], 5) == []
    assert len(ranking.fuse([list(range(100))], 7)) == 7


def test_keyword_query_quotes_words_so_no_fts_syntax_leaks():
    assert ranking.keyword_query('NEAR("a" b) OR c*') == '"near" OR "a" OR "b" OR "or" OR "c"'
    assert ranking.keyword_query("?!") is None


@pytest.mark.parametrize("condition, expected", [
    ({"type": "eq", "key": "year", "value": 2024}, True),
    ({"type": "eq", "key": "year", "value": "2024"}, False),
    ({"type": "ne", "key": "lang", "value": "fr"}, True),
    ({"type": "gte", "key": "year", "value": 2024}, True),
    ({"type": "lt", "key": "year", "value": 2024}, False),
    ({"type": "gt", "key": "lang", "value": 3}, False),
    ({"type": "in", "key": "lang", "value": ["en", "de"]}, True),
    ({"type": "nin", "key": "lang", "value": ["en"]}, False),
    ({"type": "eq", "key": "draft", "value": False}, True),
    ({"type": "eq", "key": "draft", "value": 0}, False),
    ({"type": "eq", "key": "missing", "value": 1}, False),
    ({"type": "nin", "key": "missing", "value": [1]}, True),
    ({"type": "and", "filters": [{"type": "eq", "key": "lang", "value": "en"},
                                 {"type": "or", "filters": [{"type": "eq", "key": "year", "value": 1},
                                                            {"type": "eq", "key": "draft", "value": False}]}]}, True),
    (None, True),
])
def test_attribute_filters(condition, expected):
    assert ranking.matches(condition, {"year": 2024, "lang": "en", "draft": False}) is expected


def test_segment_round_trip_with_and_without_vectors():
    vectors = np.eye(2, 4, dtype=np.float32)
    back = decode(encode(Segment(["ä", "b"], vectors)))
    assert back.texts == ["ä", "b"] and np.array_equal(back.vectors, vectors)
    plain = decode(encode(Segment(["only text"], None)))
    assert plain.vectors is None and Segment(["ä"], None).size_bytes == 2


def _segment(texts: list[str]) -> Segment:
    return Segment(texts, np.asarray([scripted_embeddings.embed(text) for text in texts], dtype=np.float32))


def test_index_sync_replaces_versions_and_drops_removed_files():
    index = ChunkIndex()
    segments = {("f1", "v1"): _segment(["apples are red", "pears are green"]),
                ("f1", "v2"): _segment(["bananas are yellow"]),
                ("f2", "v1"): _segment(["apples and bananas"])}
    loads = []

    def load(file_id, version):
        loads.append((file_id, version))
        return segments[(file_id, version)]

    index.sync("vs", {"f1": "v1", "f2": "v1"}, load)
    index.sync("vs", {"f1": "v1", "f2": "v1"}, load)  # nothing new: nothing loaded
    assert len(loads) == 2 and index.size() == 3
    keys = ["vs/f1", "vs/f2"]
    assert len(index.keyword(keys, ranking.keyword_query("apples"), 10)) == 2
    index.sync("vs", {"f1": "v2"}, load)
    assert index.size() == 1
    assert index.keyword(keys, ranking.keyword_query("apples"), 10) == []
    hit = index.keyword(keys, ranking.keyword_query("banana"), 10)  # porter stemming
    assert [text for _, text in index.chunks(hit).values()] == ["bananas are yellow"]


def test_index_vector_ranking_and_keys_restrict_results():
    index = ChunkIndex()
    index.sync("vs", {"a": "1", "b": "1"}, lambda file_id, version: _segment(
        ["ingestion pipeline design"] if file_id == "a" else ["ingesting documents quickly"]))
    query = np.asarray(scripted_embeddings.embed("ingestion"), dtype=np.float32)
    ranked = index.vector(["vs/a", "vs/b"], query, 5)
    assert [index.chunks(ranked)[chunk][0] for chunk in ranked] == ["vs/a", "vs/b"]
    assert [index.chunks(index.vector(["vs/b"], query, 5))[chunk][0] for chunk in index.vector(["vs/b"], query, 5)] \
        == ["vs/b"]
    assert index.vector(["vs/a"], np.ones(3, dtype=np.float32), 5) is None  # other dimensions: no vectors


def test_scripted_embeddings_are_deterministic_unit_vectors():
    first, second = scripted_embeddings.embed("Hello world"), scripted_embeddings.embed("hello WORLD")
    assert first == second and abs(sum(value * value for value in first) - 1) < 1e-9
    assert scripted_embeddings.embed("!!!") == [0.0] * scripted_embeddings.DIMENSIONS


def test_index_evicts_the_store_searched_longest_ago():
    index = ChunkIndex(max_chunks=4)
    texts = ["one", "two", "three"]
    for store in ("old", "new"):
        index.sync(store, {"f": "1"}, lambda file_id, version: Segment(texts, None))
    assert index.size() == 3 and index.keyword(["old/f"], ranking.keyword_query("one"), 5) == []
    assert len(index.keyword(["new/f"], ranking.keyword_query("one"), 5)) == 1




def _limits(**changes):
    from core.file_search.parsing import ParseLimits

    return dataclasses.replace(ParseLimits.from_settings(), **changes)


def test_package_limits_are_read_from_the_zip_directory():
    from core.file_search.parsing import Unreadable, check_package
    from tests.file_search.documents import docx_bomb, zip_of_many_parts

    limits = _limits(max_parts=100, max_expanded_bytes=20 * 2**20, max_xml_bytes=2 * 2**20)
    check_package(docx_bytes(["fine"]), limits)
    for data, wording in ((docx_bomb(3), "of XML"), (docx_bomb(25), "expands to"), (zip_of_many_parts(101), "parts"),
                          (b"PK\x03\x04 truncated", "not a valid Office document")):
        with pytest.raises(Unreadable) as caught:
            check_package(data, limits)
        assert caught.value.code == "invalid_file" and wording in caught.value.message


def test_xml_elements_are_counted_before_parsing_and_broken_xml_is_refused():
    from core.file_search.parsing import Unreadable, check_package
    from tests.file_search.documents import docx_of_elements

    limits = _limits(max_xml_elements=100_000)
    check_package(docx_of_elements(80_000), limits)  # the package's other parts (styles) hold about 18,600
    with pytest.raises(Unreadable) as caught:
        check_package(docx_of_elements(100_000), limits)
    assert "more than 100,000 elements" in caught.value.message
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as package:
        package.writestr("word/document.xml", b"<w:document><unclosed>")
    with pytest.raises(Unreadable) as caught:
        check_package(broken.getvalue(), limits)
    assert "'word/document.xml' is not valid XML" in caught.value.message


def test_pdf_pages_streams_and_text_are_bounded():
    from core.file_search.parsing import Unreadable
    from tests.file_search.documents import pdf_with_stream_of

    five = pdf_bytes([f"Page {n} is about otters." for n in range(5)])
    assert "Page 4" in parsing.text_of("a.pdf", five, _limits(max_pdf_pages=5))
    cases = [(five, _limits(max_pdf_pages=4), "has 5 pages; file_search reads PDFs of at most 4"),
             (five, _limits(max_text_bytes=60), "more than 0 MB of text"),
             (pdf_with_stream_of(100), _limits(), "a stream that expands past")]
    for data, limits, wording in cases:
        with pytest.raises(Unreadable) as caught:
            parsing.text_of("a.pdf", data, limits)
        assert caught.value.code == "invalid_file" and wording in caught.value.message


def test_text_past_the_bound_is_refused_before_it_is_decoded():
    from core.file_search.parsing import Unreadable

    limits = _limits(max_text_bytes=2**20)
    assert parsing.text_of("a.txt", b"x" * 2**20, limits)
    for name, data in (("a.txt", b"x" * (2**20 + 1)), ("a.json", b'"' + b"x" * 2**20 + b'"'),
                       ("a.html", b"<p>" + "é".encode() * 2**19 + b"x</p>")):
        with pytest.raises(Unreadable) as caught:
            parsing.text_of(name, data, limits)
        assert "more than 1 MB of text" in caught.value.message, name
