"""The sheet to hand over: a plan as a printable A4 PDF, French or English, black and white.

Why a PDF: a social worker prints it or sends it, and the person keeps it on
paper or on her phone; the browser's own print gave four pages of interface.
What it holds: the date, the needs, the filters used, the plan (fewest
places), each need's services as cards (phone, e-mail, website, hours in
words, conditions; a confidential record at its commune with its referral
phone), the emergency numbers, and a QR code per service to its source page
(or its website).

Safety: every value is written as plain text (fpdf2 never interprets it:
no Markdown, no HTML), stripped of control and bidirectional characters;
links come only from :mod:`mapapp.safety` (http/https); a confidential
record never has a source link (its page may show the street).  The start
point (coordinates) is never written; the place name only when the caller
gives one.

Fonts: DejaVu Sans where the system has it (every French and English
character); otherwise the PDF core font, with the few characters it lacks
replaced.

Examples
--------
>>> format_date(datetime(2026, 12, 7, 8, 0), "fr"), format_date(datetime(2026, 12, 7), "en")
('7 décembre 2026', '7 December 2026')
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapapp.emergency import load_emergency
from mapapp.i18n import t
from mapapp.taxonomy import Obstacle

if TYPE_CHECKING:
    from fpdf import FPDF

    from mapapp.plan import Plan
    from mapapp.servicecard import ServiceCard

__all__ = ["SheetOptions", "format_date", "sheet_pdf", "stop_lines", "write_sheet"]

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u200b-\u200f"
    "\u202a-\u202e\u2066-\u2069\u061c]"
)
_LATIN1 = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."})


def format_date(when: datetime, lang: str = "fr") -> str:
    """A date in words ("7 décembre 2026")."""
    return f"{when.day} {t(f'month_{when.month}', lang)} {when.year}"


@dataclass(frozen=True)
class SheetOptions:
    """How to write the sheet.

    Attributes
    ----------
    lang : {"fr", "en"}
    when : datetime or None
        The date printed, and "today" for opening hours (now when None).
    place : str
        What distances start from, in words ("Saint-Denis (93)"); not
        printed when empty.
    filters : str
        The filters used, in words (the sheet says what it left out).
    demo : bool
        The records are demonstration data.
    """

    lang: str = "fr"
    when: datetime | None = None
    place: str = ""
    filters: str = ""
    demo: bool = False


def _font_paths() -> tuple[Path, Path] | None:
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Writer:
    """Lays the sheet out on an :class:`fpdf.FPDF` (one instance per sheet)."""

    def __init__(self, opts: SheetOptions) -> None:
        from fpdf import FPDF

        lang = opts.lang
        footer = t("sheet_footer", lang)
        page_word = t("sheet_page", lang, n="{n}")
        clean = self.clean

        class _PDF(FPDF):
            def footer(self) -> None:
                self.set_y(-12)
                self.set_font(size=8)
                text = clean(footer) + "  ·  " + page_word.format(n=self.page_no())
                self.cell(0, 5, text, align="C")

        self.pdf: FPDF = _PDF(format="A4", unit="mm")
        fonts = _font_paths()
        self.unicode = fonts is not None
        if fonts is not None:
            self.pdf.add_font("DejaVu", "", str(fonts[0]))
            self.pdf.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
        else:
            self.family = "Helvetica"
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_title(t("sheet_title", lang))
        self.pdf.set_creator("mapapp")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_draw_color(0, 0, 0)
        self.pdf.set_font(self.family, size=10)
        self.opts = opts

    def clean(self, value: Any) -> str:
        """Plain one-line text the font can draw."""
        text = " ".join(_CONTROLS.sub("", str(value or "")).split())
        if not getattr(self, "unicode", True):
            text = text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
        return text

    def line(self, text: str, *, size: float = 10, bold: bool = False, h: float = 5) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, h, self.clean(text), new_x="LMARGIN", new_y="NEXT", align="L")

    def rule(self) -> None:
        y = self.pdf.get_y() + 1
        self.pdf.set_line_width(0.2)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.set_y(y + 2)

    def card(self, c: ServiceCard) -> None:
        """One card: the rows of :func:`mapapp.render.cards.card_text`, its QR code on the right."""
        from mapapp.render.cards import card_text

        pdf = self.pdf
        qr_url = c.source_href or c.website_href
        qr_size = 24.0
        if pdf.will_page_break(40):
            pdf.add_page()
        top = pdf.get_y()
        width = pdf.w - pdf.l_margin - pdf.r_margin - (qr_size + 4 if qr_url else 0)
        title, *rows = card_text(c, self.opts.lang)
        pdf.set_font(self.family, "B", 11)
        pdf.multi_cell(width, 5.5, self.clean(title), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font(self.family, "", 9.5)
        for row in rows:
            pdf.multi_cell(width, 4.6, self.clean(row), new_x="LMARGIN", new_y="NEXT", align="L")
        if qr_url:
            bottom = pdf.get_y()
            self.qr(qr_url, pdf.w - pdf.r_margin - qr_size, top, qr_size, bool(c.source_href))
            pdf.set_xy(pdf.l_margin, max(bottom, top + qr_size + 4))
        pdf.ln(2.5)

    def qr(self, url: str, x: float, y: float, size: float, source: bool) -> None:
        import segno

        buf = io.BytesIO()
        segno.make(url, error="m", micro=False).save(buf, kind="png", scale=8, border=2)
        buf.seek(0)
        self.pdf.image(buf, x=x, y=y, w=size, h=size)
        self.pdf.set_xy(x - 2, y + size)
        self.pdf.set_font(self.family, "", 6.5)
        label = t("sheet_qr_source" if source else "sheet_qr_site", self.opts.lang)
        self.pdf.cell(size + 4, 3, self.clean(label), align="C")

    def emergency(self) -> None:
        lang = self.opts.lang
        if self.pdf.will_page_break(45):
            self.pdf.add_page()
        self.rule()
        self.line(t("safety_numbers_title", lang), size=13, bold=True, h=7)
        for country in load_emergency():
            self.line(country.label(lang), bold=True)
            for n in country.numbers:
                sms = " (SMS)" if n.kind == "sms" else ""
                self.line(f"{n.number}{sms}{t('colon', lang)}{n.detail(lang)}", size=9.5, h=4.6)


def stop_lines(plan: Plan, cards: Mapping[str, ServiceCard], lang: str) -> list[str]:
    """The plan's places to go, one line each ("Garage (1,2 km) : Mobilité"), plain text.

    Unnumbered: each medium numbers them its own way (a list on the page).
    """
    out = []
    for stop in plan.stops:
        names = " + ".join(cards[i].name for i in stop.service_ids)
        labels = ", ".join(Obstacle(o).label(lang) for o in stop.covers)
        first = cards[stop.service_ids[0]]
        where = first.distance or first.where
        out.append(t("sheet_stop", lang, name=f"{names} ({where})", needs=labels))
    return out


def sheet_pdf(plan: Plan, opts: SheetOptions | None = None) -> bytes:
    """The sheet of ``plan`` as PDF bytes."""
    opts = opts or SheetOptions()
    lang = opts.lang
    when = opts.when or datetime.now().astimezone()
    w = _Writer(opts)
    pdf = w.pdf
    pdf.add_page()
    w.line(t("sheet_title", lang), size=18, bold=True, h=9)
    w.line(t("sheet_date", lang, date=format_date(when, lang)), size=10)
    if opts.demo:
        w.line(t("sheet_pdf_demo", lang), bold=True)
    if opts.place:
        w.line(t("sheet_from", lang, place=opts.place))
    needs = ", ".join(Obstacle(o).label(lang) for o in plan.obstacles)
    w.line(t("sheet_needs", lang, needs=needs))
    w.line(
        t("sheet_filters", lang, filters=opts.filters)
        if opts.filters
        else t("sheet_no_filters", lang)
    )
    cards = plan.cards(lang=lang, when=when)
    w.rule()
    w.line(t("sheet_plan", lang), size=13, bold=True, h=7)
    w.line(plan.explanation(lang))
    for k, row in enumerate(stop_lines(plan, cards, lang), 1):
        w.line(f"{k}. {row}", size=10)
    for need in plan.needs:
        if pdf.will_page_break(55):  # a need's heading stays with its first card
            pdf.add_page()
        w.rule()
        w.line(Obstacle(need.need).label(lang), size=13, bold=True, h=7)
        note = need.note(lang, plan.radius_km)
        if note:
            w.line(note)
            if need.beyond is not None:
                w.card(cards[need.beyond.id])
        for k, p in enumerate(need.services, 1):
            w.card(replace(cards[p.id], rank=k))
    w.emergency()
    return bytes(pdf.output())


def write_sheet(plan: Plan, path: Path | str, opts: SheetOptions | None = None) -> Path:
    """Write the sheet of ``plan`` to ``path`` (atomically: never half a file)."""
    target = Path(path)
    data = sheet_pdf(plan, opts)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
