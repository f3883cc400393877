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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapapp.emergency import load_emergency
from mapapp.taxonomy import Obstacle

if TYPE_CHECKING:
    from fpdf import FPDF

    from mapapp.plan import Plan
    from mapapp.servicecard import ServiceCard

__all__ = ["SheetOptions", "format_date", "sheet_pdf", "write_sheet"]

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
_MONTHS = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
_LATIN1 = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."})

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Fiche ressources", "Resource sheet"),
    "date": ("Le {date}", "On {date}"),
    "demo": (
        "Données de démonstration : ces lieux n'existent pas.",
        "Demonstration data: these places do not exist.",
    ),
    "from": (
        "Distances depuis : {place} (à vol d'oiseau)",
        "Distances from: {place} (as the crow flies)",
    ),
    "needs": ("Besoins : {needs}", "Needs: {needs}"),
    "filters": ("Filtres : {filters}", "Filters: {filters}"),
    "no_filters": ("Filtres : aucun", "Filters: none"),
    "plan": ("Le plan", "The plan"),
    "stop": ("{k}. {name} : {needs}", "{k}. {name}: {needs}"),
    "phone": ("Téléphone", "Phone"),
    "email": ("Courriel", "E-mail"),
    "website": ("Site", "Website"),
    "source": ("Fiche d'origine", "Original record"),
    "hours": ("Horaires", "Hours"),
    "org": ("Organisation", "Organisation"),
    "qr_source": ("QR : fiche d'origine", "QR: original record"),
    "qr_site": ("QR : site web", "QR: website"),
    "emergency": ("Numéros d'urgence", "Emergency numbers"),
    "footer": (
        "Urgence : 112 · Violences femmes : 3919 (gratuit, 24 h/24)",
        "Emergency: 112 · Violence against women: 3919 (free, 24/7)",
    ),
    "page": ("page {n}", "page {n}"),
    "contact_unknown": ("contact inconnu", "contact unknown"),
    "hours_unknown": ("non renseignés", "not given"),
}


def _t(key: str, lang: str, **kw: Any) -> str:
    fr, en = _TEXT[key]
    return (en if lang == "en" else fr).format(**kw)


def format_date(when: datetime, lang: str = "fr") -> str:
    """A date in words ("7 décembre 2026")."""
    months = _MONTHS["en" if lang == "en" else "fr"]
    return f"{when.day} {months[when.month - 1]} {when.year}"


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
        footer = _t("footer", lang)
        page_word = _t("page", lang, n="{n}")
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
        self.pdf.set_title(_t("title", lang))
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

    def card(self, k: int, c: ServiceCard) -> None:
        pdf, lang = self.pdf, self.opts.lang
        qr_url = c.source_href or c.website_href
        qr_size = 24.0
        if pdf.will_page_break(40):
            pdf.add_page()
        top = pdf.get_y()
        width = pdf.w - pdf.l_margin - pdf.r_margin - (qr_size + 4 if qr_url else 0)
        pdf.set_font(self.family, "B", 11)
        pdf.multi_cell(
            width, 5.5, self.clean(f"{k}. {c.name}"), new_x="LMARGIN", new_y="NEXT", align="L"
        )
        pdf.set_font(self.family, "", 9.5)
        rows: list[str] = []
        sep = ": " if lang == "en" else " : "  # French puts a space before a colon
        if c.organisation:
            rows.append(f"{_t('org', lang)}{sep}{c.organisation}")
        where = f"{c.distance} · {c.where}" if c.distance else c.where
        rows.append(where)
        if c.confidential:
            rows.append(c.confidential_note)
        if c.phone:
            rows.append(f"{_t('phone', lang)}{sep}{c.phone}")
        if c.email:
            rows.append(f"{_t('email', lang)}{sep}{c.email}")
        if c.website_href:
            rows.append(f"{_t('website', lang)}{sep}{c.website_href}")
        if c.source_href:
            rows.append(f"{_t('source', lang)}{sep}{c.source_href}")
        if c.contact_unknown:
            rows.append(_t("contact_unknown", lang))
        hours = c.hours or _t("hours_unknown", lang)
        rows.append(f"{_t('hours', lang)}{sep}{hours}" + (f" ({c.today})" if c.today else ""))
        if c.conditions:
            rows.append(c.conditions)
        if c.reserved:
            rows.append(c.reserved)
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
        label = _t("qr_source" if source else "qr_site", self.opts.lang)
        self.pdf.cell(size + 4, 3, self.clean(label), align="C")

    def emergency(self) -> None:
        lang = self.opts.lang
        if self.pdf.will_page_break(45):
            self.pdf.add_page()
        self.rule()
        self.line(_t("emergency", lang), size=13, bold=True, h=7)
        for country in load_emergency():
            self.line(country.label(lang), bold=True)
            for n in country.numbers:
                sms = " (SMS)" if n.kind == "sms" else ""
                sep = ": " if lang == "en" else " : "
                self.line(f"{n.number}{sms}{sep}{n.detail(lang)}", size=9.5, h=4.6)


def sheet_pdf(plan: Plan, opts: SheetOptions | None = None) -> bytes:
    """The sheet of ``plan`` as PDF bytes."""
    opts = opts or SheetOptions()
    lang = opts.lang
    when = opts.when or datetime.now().astimezone()
    w = _Writer(opts)
    pdf = w.pdf
    pdf.add_page()
    w.line(_t("title", lang), size=18, bold=True, h=9)
    w.line(_t("date", lang, date=format_date(when, lang)), size=10)
    if opts.demo:
        w.line(_t("demo", lang), bold=True)
    if opts.place:
        w.line(_t("from", lang, place=opts.place))
    needs = ", ".join(Obstacle(o).label(lang) for o in plan.obstacles)
    w.line(_t("needs", lang, needs=needs))
    w.line(_t("filters", lang, filters=opts.filters) if opts.filters else _t("no_filters", lang))
    cards = plan.cards(lang=lang, when=when)
    w.rule()
    w.line(_t("plan", lang), size=13, bold=True, h=7)
    w.line(plan.explanation(lang))
    for k, stop in enumerate(plan.stops, 1):
        names = " + ".join(cards[i].name for i in stop.service_ids)
        labels = ", ".join(Obstacle(o).label(lang) for o in stop.covers)
        first = cards[stop.service_ids[0]]
        where = first.distance or first.where
        w.line(_t("stop", lang, k=k, name=f"{names} ({where})", needs=labels), size=10)
    for need in plan.needs:
        w.rule()
        w.line(Obstacle(need.need).label(lang), size=13, bold=True, h=7)
        note = need.note(lang, plan.radius_km)
        if note:
            w.line(note)
            if need.beyond is not None:
                w.card(1, cards[need.beyond.id])
        for k, p in enumerate(need.services, 1):
            w.card(k, cards[p.id])
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
