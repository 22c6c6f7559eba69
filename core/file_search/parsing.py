"""Text out of the file types OpenAI's file_search accepts, with well-kept parsers.

Parsers and what they cost in requirements.in: pypdf (PDF; pure Python, ~1 MB),
python-docx and python-pptx (Office; both build on lxml, ~5 MB, which also
extracts HTML text here). Markdown, plain text, JSON and source code are
decoded as text. A file that is not one of these types is `unsupported_file`;
one that is but cannot be read (corrupt, encrypted, not valid UTF-8, no text at
all) is `invalid_file` — OpenAI's `last_error` codes for a vector store file.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass

TEXT_EXTENSIONS = frozenset({
    ".c", ".cpp", ".cs", ".css", ".go", ".java", ".js", ".json", ".md", ".php", ".py", ".rb", ".sh",
    ".tex", ".ts", ".txt",
})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
OFFICE_EXTENSIONS = frozenset({".docx", ".pptx"})
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | HTML_EXTENSIONS | OFFICE_EXTENSIONS | {".pdf"}


class Unreadable(Exception):
    """The file cannot be ingested; `code` is the vector store file's last_error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParseLimits:
    """What reading one file may cost, each checked before the work it bounds.

    An Office file is a zip of XML parts: its compressed size says little, as XML compresses a
    hundredfold and the parsers hold every part in memory and every XML part as a tree many times
    its size, so a 100 KB file can cost gigabytes. A PDF's pages are read one at a time (pypdf
    bounds each stream's decompression itself). The text of any file is bounded as OpenAI bounds a
    file's tokens (5,000,000), since chunks and embeddings grow with it.
    """

    max_parts: int
    max_expanded_bytes: int  # every part of an Office file, uncompressed
    max_xml_bytes: int  # the XML parts the parsers turn into trees, uncompressed
    max_xml_elements: int  # elements in those parts, counted by a streaming pass
    max_pdf_pages: int
    max_text_bytes: int  # the text extracted, UTF-8

    @classmethod
    def from_settings(cls) -> "ParseLimits":
        from core import settings

        mb = 2**20
        return cls(max_parts=settings.get_int("INGESTION_MAX_PARTS"),
                   max_expanded_bytes=settings.get_int("INGESTION_MAX_EXPANDED_MB") * mb,
                   max_xml_bytes=settings.get_int("INGESTION_MAX_XML_MB") * mb,
                   max_xml_elements=settings.get_int("INGESTION_MAX_XML_ELEMENTS"),
                   max_pdf_pages=settings.get_int("INGESTION_MAX_PDF_PAGES"),
                   max_text_bytes=settings.get_int("INGESTION_MAX_TEXT_MB") * mb)


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


def check_package(data: bytes, limits: ParseLimits) -> None:
    """Refuse an Office package that holds more than `limits` allow, before any parser sees it.

    Sizes come from the zip's directory alone, before anything is decompressed (a part that
    decompresses past its declared size is stopped by zipfile itself, which checks sizes and CRCs
    as it reads); elements are then counted by streaming each XML part through expat, in constant
    memory."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        members = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Unreadable("invalid_file", "The file is not a valid Office document (not a zip package).") from None
    if len(members) > limits.max_parts:
        raise Unreadable("invalid_file", f"The document has {len(members):,} parts; file_search reads documents "
                                         f"of at most {limits.max_parts:,}.")
    expanded = sum(member.file_size for member in members)
    if expanded > limits.max_expanded_bytes:
        raise Unreadable("invalid_file", f"The document expands to {expanded / 2**20:,.0f} MB when unpacked; "
                                         f"file_search reads documents of at most "
                                         f"{limits.max_expanded_bytes / 2**20:,.0f} MB unpacked.")
    xml_parts = [member for member in members if _is_xml(member.filename)]
    xml = sum(member.file_size for member in xml_parts)
    if xml > limits.max_xml_bytes:
        raise Unreadable("invalid_file", f"The document holds {xml / 2**20:,.1f} MB of XML when unpacked; "
                                         f"file_search reads documents of at most "
                                         f"{limits.max_xml_bytes / 2**20:,.0f} MB of XML.")
    _count_elements(package, xml_parts, limits.max_xml_elements)


XML_READ_BYTES = 64 * 1024


class _TooManyElements(Exception):
    pass


def _count_elements(package: zipfile.ZipFile, parts: list[zipfile.ZipInfo], most: int) -> None:
    from xml.parsers import expat

    counted = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal counted
        counted += 1
        if counted > most:
            raise _TooManyElements()

    for part in parts:
        parser = expat.ParserCreate()
        parser.StartElementHandler = start
        try:
            with package.open(part) as stream:
                while chunk := stream.read(XML_READ_BYTES):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except _TooManyElements:
            raise Unreadable("invalid_file", f"The document's XML holds more than {most:,} elements; file_search "
                                             f"reads documents of at most {most:,}.") from None
        except (expat.ExpatError, zipfile.BadZipFile, OSError, ValueError):
            raise Unreadable("invalid_file", f"The document's part {part.filename!r} is not valid XML.") from None


def _check_text(text: str, limits: ParseLimits) -> str:
    if len(text) > limits.max_text_bytes or len(text.encode("utf-8")) > limits.max_text_bytes:
        raise _too_much_text(limits)
    return text


def _too_much_text(limits: ParseLimits) -> Unreadable:
    return Unreadable("invalid_file", f"The file holds more than {limits.max_text_bytes / 2**20:,.0f} MB of text; "
                                      f"file_search reads files of at most that much.")


def extension(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def text_of(filename: str, data: bytes, limits: ParseLimits | None = None) -> str:
    """The file's text; raises Unreadable with OpenAI's code when there is none to be had."""
    kind = extension(filename)
    if kind not in SUPPORTED_EXTENSIONS:
        raise Unreadable("unsupported_file", f"Files with extension '{kind or '(none)'}' are not supported "
                                             f"for file_search.")
    limits = limits or ParseLimits.from_settings()
    if kind in OFFICE_EXTENSIONS:
        check_package(data, limits)
    elif kind in TEXT_EXTENSIONS and len(data) > limits.max_text_bytes:
        raise _too_much_text(limits)
    try:
        text = _check_text(_PARSERS.get(kind, _plain)(data, limits), limits)
    except Unreadable:
        raise
    except Exception as error:  # the parsers raise many kinds of errors on corrupt input
        raise Unreadable("invalid_file", f"The file could not be parsed as {kind}: {type(error).__name__}.") from None
    if not text.strip():
        raise Unreadable("invalid_file", "The file contains no text to index.")
    return text


def _plain(data: bytes, limits: ParseLimits) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("invalid_file", "The file is not valid UTF-8 text.") from None


def _json(data: bytes, limits: ParseLimits) -> str:
    text = _plain(data, limits)
    try:
        json.loads(text)
    except ValueError:
        raise Unreadable("invalid_file", "The file is not valid JSON.") from None
    return text


def _pdf(data: bytes, limits: ParseLimits) -> str:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise Unreadable("invalid_file", "The PDF is encrypted.")
    pages = len(reader.pages)
    if pages > limits.max_pdf_pages:
        raise Unreadable("invalid_file", f"The PDF has {pages:,} pages; file_search reads PDFs of at most "
                                         f"{limits.max_pdf_pages:,}.")
    texts, size = [], 0
    try:
        for page in reader.pages:
            texts.append(page.extract_text() or "")
            size += len(texts[-1])
            if size > limits.max_text_bytes:
                raise _too_much_text(limits)
    except LimitReachedError:
        raise Unreadable("invalid_file", "The PDF holds a stream that expands past what file_search "
                                         "decompresses.") from None
    return "\n\n".join(texts)


def _docx(data: bytes, limits: ParseLimits) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pptx(data: bytes, limits: ParseLimits) -> str:
    import pptx

    presentation = pptx.Presentation(io.BytesIO(data))
    slides = []
    for slide in presentation.slides:
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        slides.append("\n".join(texts))
    return "\n\n".join(slides)


def _html(data: bytes, limits: ParseLimits) -> str:
    import lxml.html

    root = lxml.html.document_fromstring(data)
    for element in root.xpath("//script|//style|//noscript"):
        element.drop_tree()
    for element in root.iter(*_BLOCKS):  # block boundaries become line breaks, not run-together words
        element.tail = "\n" + (element.tail or "")
    return "\n".join(line.strip() for line in root.text_content().splitlines() if line.strip())


_BLOCKS = ("p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
           "section", "article", "header", "footer", "table", "ul", "ol", "dt", "dd")
_PARSERS = {".pdf": _pdf, ".docx": _docx, ".pptx": _pptx, ".json": _json, ".html": _html, ".htm": _html}
