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
class PackageLimits:
    """What an Office file (a zip of XML parts) may expand to before it is parsed.

    The compressed size says little: XML compresses a hundredfold, and the parsers hold every part in
    memory and every XML part as a tree many times its size, so a 100 KB file can cost gigabytes.
    """

    max_parts: int
    max_expanded_bytes: int  # every part, uncompressed
    max_xml_bytes: int  # the XML parts the parsers turn into trees, uncompressed

    @classmethod
    def from_settings(cls) -> "PackageLimits":
        from core import settings

        return cls(max_parts=int(settings.get("INGESTION_MAX_PARTS")),
                   max_expanded_bytes=int(settings.get("INGESTION_MAX_EXPANDED_MB")) * 1024 * 1024,
                   max_xml_bytes=int(settings.get("INGESTION_MAX_XML_MB")) * 1024 * 1024)


def check_package(data: bytes, limits: PackageLimits) -> None:
    """Refuse an Office package whose central directory declares more than `limits` allow.

    Read from the zip's directory alone, before anything is decompressed. A part that decompresses
    past its declared size is stopped by zipfile itself (it checks sizes and CRCs as it reads)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
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
    xml = sum(member.file_size for member in members if member.filename.lower().endswith((".xml", ".rels")))
    if xml > limits.max_xml_bytes:
        raise Unreadable("invalid_file", f"The document holds {xml / 2**20:,.1f} MB of XML when unpacked; "
                                         f"file_search reads documents of at most "
                                         f"{limits.max_xml_bytes / 2**20:,.0f} MB of XML.")


def extension(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def text_of(filename: str, data: bytes, limits: PackageLimits | None = None) -> str:
    """The file's text; raises Unreadable with OpenAI's code when there is none to be had."""
    kind = extension(filename)
    if kind not in SUPPORTED_EXTENSIONS:
        raise Unreadable("unsupported_file", f"Files with extension '{kind or '(none)'}' are not supported "
                                             f"for file_search.")
    if kind in OFFICE_EXTENSIONS:
        check_package(data, limits or PackageLimits.from_settings())
    try:
        text = _PARSERS.get(kind, _plain)(data)
    except Unreadable:
        raise
    except Exception as error:  # the parsers raise many kinds of errors on corrupt input
        raise Unreadable("invalid_file", f"The file could not be parsed as {kind}: {type(error).__name__}.") from None
    if not text.strip():
        raise Unreadable("invalid_file", "The file contains no text to index.")
    return text


def _plain(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("invalid_file", "The file is not valid UTF-8 text.") from None


def _json(data: bytes) -> str:
    text = _plain(data)
    try:
        json.loads(text)
    except ValueError:
        raise Unreadable("invalid_file", "The file is not valid JSON.") from None
    return text


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise Unreadable("invalid_file", "The PDF is encrypted.")
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def _docx(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pptx(data: bytes) -> str:
    import pptx

    presentation = pptx.Presentation(io.BytesIO(data))
    slides = []
    for slide in presentation.slides:
        texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        slides.append("\n".join(texts))
    return "\n\n".join(slides)


def _html(data: bytes) -> str:
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
