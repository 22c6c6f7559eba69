"""File Search: questions about an employee benefits guide, answered from the guide with citations.

The seed's notebook downloaded a benefits PDF from the internet; this sample makes its own
PDF (from benefits.txt, with fpdf2) so it runs offline, puts it in a vector store with the
SDK's upload_and_poll, and gives the assistant the file_search tool over that store.
"""

from __future__ import annotations

from pathlib import Path

from samples.conversation import Turn
from samples.session import Session, about_user

NAME = "Contoso Benefits Assistant"
SOURCE = Path(__file__).parent / "data" / "benefits.txt"
INSTRUCTIONS = ("You help Contoso employees understand their benefits. Answer only from the benefits guide you "
                "can search, cite it, and say so when the guide does not answer the question.")
PROMPTS = [
    "Does Contoso offer dental insurance?",
    "How do the costs of the two medical plans compare?",
]


def benefits_pdf(target_dir: Path) -> Path:
    """The benefits guide as a PDF: the title in bold, then one paragraph per line of benefits.txt."""
    from fpdf import FPDF

    title, *paragraphs = [line for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    pdf = FPDF()
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    for paragraph in paragraphs:
        heading = paragraph[:1].isdigit()
        pdf.set_font("Helvetica", style="B" if heading else "", size=13 if heading else 11)
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "contoso_benefits_2026.pdf"
    pdf.output(str(target))
    return target


def run(session: Session) -> list[Turn]:
    store_id = session.create_vector_store("Contoso Benefits", [benefits_pdf(session.out_dir)])
    assistant_id = session.create_assistant(
        name=NAME, instructions=INSTRUCTIONS, tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    chat = session.conversation(assistant_id, instructions=about_user("Jane Doe"))
    return session.ask_all(chat, PROMPTS)
