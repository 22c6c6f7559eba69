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


def docx_bomb(xml_megabytes: int = 40) -> bytes:
    """A real .docx whose document.xml is `xml_megabytes` of repeated runs: tiny compressed, huge unpacked."""
    import zipfile

    normal = docx_bytes(["placeholder"])
    run = b"<w:p><w:r><w:t>bomb bomb bomb bomb bomb bomb bomb bomb</w:t></w:r></w:p>"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(normal)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                data = head + b"<w:body>" + run * (xml_megabytes * 1024 * 1024 // len(run)) + tail
            bomb.writestr(member, data, compresslevel=9)
    return out.getvalue()


def zip_of_many_parts(parts: int) -> bytes:
    """A .pptx-named zip with `parts` empty members (a valid package has a few dozen)."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        for index in range(parts):
            package.writestr(f"ppt/slides/_rels/s{index}.xml.rels", b"")
    return out.getvalue()
