"""``mapapp plan``: for a place and several needs, the plan (fewest near places) and each need's nearest services.

Same core as the page and the API (:func:`mapapp.plan.build_plan`), so they
agree for the same inputs.  ``--pdf`` writes the printable sheet
(:mod:`mapapp.render.sheet`).  The place and the needs are never written
anywhere but the terminal (and the sheet, when asked).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from mapapp.i18n import t
from mapapp.taxonomy import ActorType, Obstacle
from mapapp.vocabulary import DEFAULT_RADIUS_KM

if TYPE_CHECKING:
    from mapapp.plan import Plan

__all__ = ["parse_day", "plan_command"]

_DAYS = {
    0: ("mo", "mon", "monday", "lu", "lun", "lundi"),
    1: ("tu", "tue", "tuesday", "ma", "mar", "mardi"),
    2: ("we", "wed", "wednesday", "me", "mer", "mercredi"),
    3: ("th", "thu", "thursday", "je", "jeu", "jeudi"),
    4: ("fr", "fri", "friday", "ve", "ven", "vendredi"),
    5: ("sa", "sat", "saturday", "sam", "samedi"),
    6: ("su", "sun", "sunday", "di", "dim", "dimanche"),
}


def parse_day(text: str, today: date) -> date:
    """The next date (today included) of a weekday named in French or English, or an ISO date.

    Examples
    --------
    >>> parse_day("mardi", date(2026, 12, 7)), parse_day("Mon", date(2026, 12, 7))
    (datetime.date(2026, 12, 8), datetime.date(2026, 12, 7))
    >>> parse_day("2026-12-25", date(2026, 12, 7))
    datetime.date(2026, 12, 25)
    """
    key = text.strip().lower().rstrip(".")
    for weekday, names in _DAYS.items():
        if key in names:
            return today + timedelta(days=(weekday - today.weekday()) % 7)
    try:
        return date.fromisoformat(key)
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: jour inconnu / unknown day (lundi…dimanche, monday…sunday, or 2026-12-25)"
        ) from None


@click.command("plan")
@click.option("--near", "near", help='A commune or postcode: "Saint-Denis 93", "93200".')
@click.option("--lat", type=float, help="Latitude (with --lon) instead of --near.")
@click.option("--lon", type=float, help="Longitude (with --lat).")
@click.option(
    "--obstacle",
    "obstacles",
    multiple=True,
    required=True,
    type=click.Choice([o.value for o in Obstacle]),
    help="A need to cover (repeat for several).",
)
@click.option("--per-need", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option(
    "--radius",
    "radius_km",
    type=float,
    default=float(DEFAULT_RADIUS_KM),  # the search page's: page and command give one plan
    show_default=True,
    help="km; 0: no limit.",
)
@click.option("--type", "types", multiple=True, type=click.Choice([t.value for t in ActorType]))
@click.option("--public", "publics", multiple=True, help="femmes, jeunes, familles...")
@click.option("--free-only", is_flag=True, help="Only services free of charge.")
@click.option(
    "--reserved-free",
    is_flag=True,
    help="Childcare: only crèches with a free reserved place / seulement les crèches avec "
    "une place réservée libre.",
)
@click.option("--frais", "frais", multiple=True, help="gratuit, payant, adhesion...")
@click.option("--mode", "modes", multiple=True, help="en-presentiel, a-distance...")
@click.option("--open-now", is_flag=True, help="Only services open now (their local time).")
@click.option(
    "--open-on", "open_on", help="Only services open that day: lundi, tuesday, 2026-12-25."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path), help="Write the sheet."
)
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
def plan_command(
    near: str | None,
    lat: float | None,
    lon: float | None,
    obstacles: tuple[str, ...],
    per_need: int,
    radius_km: float,
    types: tuple[str, ...],
    publics: tuple[str, ...],
    free_only: bool,
    reserved_free: bool,
    frais: tuple[str, ...],
    modes: tuple[str, ...],
    open_now: bool,
    open_on: str | None,
    fmt: str,
    pdf: Path | None,
    lang: str,
) -> None:
    """A plan for several needs: the fewest near places covering them all, then each need's nearest services."""
    from mapapp.catalog import load_public_actors
    from mapapp.geo.communes import load_geography
    from mapapp.geo.places import resolve_place
    from mapapp.plan import build_plan
    from mapapp.settings import Settings

    if near is None and (lat is None or lon is None):
        raise click.UsageError("give --near PLACE, or both --lat and --lon")
    if radius_km < 0:
        raise click.BadParameter("the radius must be positive (0: no limit)", param_hint="--radius")
    settings = Settings.from_env()
    geo = load_geography(settings.cache_dir)
    place_label = ""
    if near is not None:
        place = resolve_place(near, geo)
        lat, lon, place_label = place.lat, place.lon, place.label
        click.echo(f"Autour de / around {place.label} [{place.code_insee}]", err=True)
    assert lat is not None and lon is not None
    now = datetime.now(UTC)
    day = parse_day(open_on, now.astimezone(ZoneInfo("Europe/Paris")).date()) if open_on else None
    shown = load_public_actors(settings, communes=geo.communes)
    if shown.is_demo:
        click.echo("Données de démonstration / demonstration data (run 'mapapp ingest')", err=True)
    try:
        plan = build_plan(
            shown.actors,
            lat=lat,
            lon=lon,
            obstacles=obstacles,
            per_need=per_need,
            radius_km=radius_km or None,
            types=types,
            publics=publics,
            free_only=free_only,
            frais=frais,
            modes=modes,
            open_at=now if open_now else None,
            open_day=day,
            reserved_free=reserved_free,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if pdf is not None:
        from mapapp.render.sheet import SheetOptions, write_sheet

        write_sheet(
            plan,
            pdf,
            SheetOptions(
                lang=lang,
                place=place_label,
                when=now,
                demo=shown.is_demo,
                filters="; ".join(
                    f
                    for f in (
                        _filters_text(lang, types, publics, free_only, frais, modes, open_now, day),
                        t("reserved_filter", lang) if reserved_free else "",
                    )
                    if f
                ),
            ),
        )
        click.echo(f"Fiche écrite / sheet written: {pdf}", err=True)
    if fmt == "json":
        json.dump(plan.to_dict(lang, when=now), sys.stdout, ensure_ascii=False, indent=1)
        click.echo()
    elif fmt == "csv":
        click.echo(_csv(plan, lang, now), nl=False)
    else:
        click.echo(_table(plan, lang, now))


def _filters_text(
    lang: str,
    types: tuple[str, ...],
    publics: tuple[str, ...],
    free_only: bool,
    frais: tuple[str, ...],
    modes: tuple[str, ...],
    open_now: bool,
    day: date | None,
) -> str:
    """The filters used, in words, for the sheet (it must say what it left out)."""
    en = lang == "en"
    parts = []
    if types:
        parts.append(("types: " if en else "types : ") + ", ".join(types))
    if publics:
        parts.append(("for: " if en else "public : ") + ", ".join(publics))
    if free_only:
        parts.append("free of charge only" if en else "gratuit seulement")
    if frais:
        parts.append(("fees: " if en else "frais : ") + ", ".join(frais))
    if modes:
        parts.append(("reception: " if en else "accueil : ") + ", ".join(modes))
    if open_now:
        parts.append("open now" if en else "ouvert maintenant")
    if day is not None:
        parts.append(("open on " if en else "ouvert le ") + day.isoformat())
    return "; ".join(parts)


def _table(plan: Plan, lang: str, now: datetime) -> str:
    """The plan as text: the same card rows as the sheets (:func:`mapapp.render.cards.card_text`)."""
    from dataclasses import replace

    from mapapp.i18n import format_km, t
    from mapapp.render.cards import card_text
    from mapapp.render.sheet import stop_lines

    cards = plan.cards(lang=lang, when=now)
    en = lang == "en"
    lines = [plan.explanation(lang), ""]
    if plan.stops:
        lines.append(t("plan_places", lang) + t("colon", lang).rstrip())
        lines.extend(f"  {k}. {row}" for k, row in enumerate(stop_lines(plan, cards, lang), 1))
        lines.append("")
    for need in plan.needs:
        lines.append(f"{Obstacle(need.need).label(lang)}")
        if not need.services:
            lines.append("  " + need.note(lang, plan.radius_km))
        for k, p in enumerate(need.services, 1):
            title, *rows = card_text(replace(cards[p.id], rank=k), lang)
            lines.append(f"  {title}")
            lines.extend(f"     {row}" for row in rows)
        lines.append("")
    note = "distances as the crow flies" if en else "distances à vol d'oiseau"
    lines.append(f"({note}; " + f"rayon / radius {format_km(plan.radius_km or 0, lang)})")
    return "\n".join(lines)


def _csv(plan: Plan, lang: str, now: datetime) -> str:
    cards = plan.cards(lang=lang, when=now)
    in_plan = {i for s in plan.stops for i in s.service_ids}
    from mapapp.csv_export import csv_text

    header = [
        "need",
        "rank",
        "in_plan",
        "id",
        "name",
        "organisation",
        "distance_km",
        "where",
        "phone",
        "email",
        "website",
        "source_link",
        "hours",
        "today",
        "conditions",
        "reserved",
    ]
    rows = []
    for need in plan.needs:
        for k, p in enumerate(need.services, 1):
            c = cards[p.id]
            rows.append(
                [
                    need.need,
                    k,
                    "yes" if p.id in in_plan else "",
                    c.id,
                    c.name,
                    c.organisation,
                    round(p.distance_km, 2) if c.precise else None,
                    c.where,
                    c.phone,
                    c.email,
                    c.website_href or "",
                    c.source_href or "",
                    c.hours,
                    c.today,
                    c.conditions,
                    c.reserved,
                ]
            )
    # every cell through the one writer that defuses spreadsheet formulas
    return csv_text(header, rows)
