"""Real documents made by the tests: PDF (fpdf2), Word and PowerPoint (python-docx, python-pptx)."""

from __future__ import annotations

import io


def pdf_bytes(pages: list[str]) -> bytes:
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=11)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 6, text)
    return bytes(document.output())


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_bytes(slides: list[str]) -> bytes:
    import pptx

    presentation = pptx.Presentation()
    for text in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])
        slide.shapes.title.text = text
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def _docx_with_body(body: bytes) -> bytes:
    """A real .docx whose document body starts with `body` (compressed as tightly as zip can)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes(["placeholder"]))) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                data = head + b"<w:body>" + body + tail
            package.writestr(member, data, compresslevel=9)
    return out.getvalue()


def docx_bomb(xml_megabytes: int = 40) -> bytes:
    """A real .docx whose document.xml is `xml_megabytes` of repeated runs: tiny compressed, huge unpacked."""
    run = b"<w:p><w:r><w:t>bomb bomb bomb bomb bomb bomb bomb bomb</w:t></w:r></w:p>"
    return _docx_with_body(run * (xml_megabytes * 1024 * 1024 // len(run)))


def zip_of_many_parts(parts: int) -> bytes:
    """A .pptx-named zip with `parts` empty members (a valid package has a few dozen)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        for index in range(parts):
            package.writestr(f"ppt/slides/_rels/s{index}.xml.rels", b"")
    return out.getvalue()


def docx_of_elements(count: int) -> bytes:
    """A real .docx whose body holds `count` empty paragraphs: few bytes per element, many elements."""
    return _docx_with_body(b"<w:p/>" * count)


def pdf_with_stream_of(megabytes: int) -> bytes:
    """A one-page PDF whose content stream is a few hundred KB compressed and `megabytes` unpacked."""
    import zlib

    packer = zlib.compressobj(9)
    piece = b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n" * (1024 * 1024 // 34)
    stream = b"".join(packer.compress(piece) for _ in range(megabytes)) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
