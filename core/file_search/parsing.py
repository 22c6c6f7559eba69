"""Text out of the file types OpenAI's file_search accepts, with well-kept parsers.

Parsers and what they cost in requirements.txt: pypdf (PDF; pure Python, ~1 MB),
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

TEXT_EXTENSIONS = frozenset({
    ".c", ".cpp", ".cs", ".css", ".go", ".java", ".js", ".json", ".md", ".php", ".py", ".rb", ".sh",
    ".tex", ".ts", ".txt",
})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS | HTML_EXTENSIONS | {".pdf", ".docx", ".pptx"}


class Unreadable(Exception):
    """The file cannot be ingested; `code` is the vector store file's last_error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def extension(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def text_of(filename: str, data: bytes) -> str:
    """The file's text; raises Unreadable with OpenAI's code when there is none to be had."""
    kind = extension(filename)
    if kind not in SUPPORTED_EXTENSIONS:
        raise Unreadable("unsupported_file", f"Files with extension '{kind or '(none)'}' are not supported "
                                             f"for file_search.")
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
