"""A `Document` as an A4 PDF (fpdf2: pure Python, no system libraries; docs/decisions/0011).

Text uses the PDF core font Helvetica in the Windows-1252 encoding, which covers English,
German, Spanish and the other Western European languages (and the euro sign); a TrueType font
set in TUITION_PDF_FONT covers any other script. Characters the font lacks print as "?",
never as an error: a customer's unusual name must not stop their receipt.
"""

from django.conf import settings
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .document_content import Document

_MUTED = (100, 100, 100)
_INK = (20, 20, 20)
_ACCENT = {"paid": (22, 120, 60), "due": (170, 60, 20), "credited": (30, 80, 160)}


class _Pdf(FPDF):
    def __init__(self, doc: Document) -> None:
        super().__init__(format="A4")
        self.doc = doc
        self.unicode_font = bool(settings.TUITION_LEGAL.get("PDF_FONT"))
        if self.unicode_font:
            self.add_font("body", "", settings.TUITION_LEGAL["PDF_FONT"])
            self.add_font("body", "B", settings.TUITION_LEGAL["PDF_FONT"])
            self.family = "body"
        else:
            self.core_fonts_encoding = "cp1252"
            self.family = "helvetica"
        self.set_title(f"{doc.title} {doc.number}")
        self.set_author(doc.seller.name)
        self.set_creator("Tuition")
        self.set_auto_page_break(auto=True, margin=25)
        self.set_margins(20, 20, 20)

    def text_of(self, value: str) -> str:
        value = value.replace("\u202f", "\u00a0").replace("\u2212", "-").replace("\u2013", "-")
        if self.unicode_font:
            return value
        return value.encode("cp1252", errors="replace").decode("cp1252")

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = _INK) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    def line_of(self, value: str, *, height: float = 5.5, align: str = "L") -> None:
        self.cell(0, height, self.text_of(value), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-18)
        self.font(8, color=_MUTED)
        parts = [p for p in (self.doc.seller.footer, f"{self.doc.number} · {self.page_no()}") if p]
        for part in parts:
            self.line_of(part, height=4, align="C")


def render_pdf(doc: Document) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pdf(doc)
    pdf.add_page()
    _seller(pdf, doc)
    _heading(pdf, doc)
    _billed_to(pdf, doc)
    _pairs(pdf, [(row.label, row.value) for row in doc.details])
    pdf.ln(4)
    _amounts(pdf, doc)
    _state(pdf, doc)
    return bytes(pdf.output())


def _seller(pdf: _Pdf, doc: Document) -> None:
    top = pdf.get_y()
    if doc.seller.logo:
        pdf.image(doc.seller.logo, x=pdf.w - pdf.r_margin - 40, y=top, w=40)
    pdf.font(13, bold=True)
    pdf.line_of(doc.seller.name, height=7)
    pdf.font(9, color=_MUTED)
    for line in doc.seller.address:
        pdf.line_of(line, height=4.5)
    if doc.seller.tax_id:
        pdf.line_of(f"{doc.tax_id_label}: {doc.seller.tax_id}", height=4.5)
    pdf.set_y(max(pdf.get_y(), top + (22 if doc.seller.logo else 0)) + 8)


def _heading(pdf: _Pdf, doc: Document) -> None:
    pdf.font(20, bold=True)
    pdf.line_of(f"{doc.title} {doc.number}", height=10)
    pdf.font(10, color=_MUTED)
    pdf.line_of(doc.issued)
    pdf.ln(4)


def _billed_to(pdf: _Pdf, doc: Document) -> None:
    pdf.font(9, color=_MUTED)
    pdf.line_of(doc.billed_to_label, height=5)
    pdf.font(10)
    for line in doc.billed_to:
        pdf.line_of(line, height=5)
    pdf.ln(3)


def _pairs(pdf: _Pdf, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.font(10, color=_MUTED)
        pdf.cell(45, 6, pdf.text_of(label))
        pdf.font(10)
        pdf.multi_cell(0, 6, pdf.text_of(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _amounts(pdf: _Pdf, doc: Document) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_draw_color(200, 200, 200)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(2)
    for row in doc.amounts:
        pdf.font(11 if row.strong else 10, bold=row.strong)
        pdf.cell(width - 50, 7, pdf.text_of(row.label))
        pdf.cell(50, 7, pdf.text_of(row.value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(6)


def _state(pdf: _Pdf, doc: Document) -> None:
    pdf.font(14, bold=True, color=_ACCENT.get(doc.state, _MUTED))
    pdf.line_of(doc.state_label.upper(), height=8)
    pdf.font(10)
    pdf.multi_cell(0, 5.5, pdf.text_of(doc.state_detail), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for note in doc.notes:
        pdf.ln(2)
        pdf.multi_cell(0, 5.5, pdf.text_of(note), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
