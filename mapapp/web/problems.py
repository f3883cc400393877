"""Errors of the REST API as RFC 9457 problem details, in French or English.

Why: a client (a département's site, a DORA-like tool) must be able to show a
person a sentence she understands, and a program must be able to branch on a
stable ``type``; a traceback helps neither and may leak data.  Every error
the API returns is ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail`` in the language asked for (``lang`` parameter, else
``Accept-Language``, else French).  The ``instance`` is the path only: a
query string may hold a person's place and needs.

Examples
--------
>>> negotiate_lang(None, "en-GB,en;q=0.9"), negotiate_lang("fr", "en"), negotiate_lang(None, None)
('en', 'fr', 'fr')
>>> problem_body("unknown-place", 404, "en", "/api/v1/services")["title"]
'Unknown place'
"""

from __future__ import annotations

from typing import Any, Final

from mapapp.i18n import Lang

__all__ = [
    "PROBLEMS",
    "PROBLEM_JSON",
    "ApiProblem",
    "negotiate_lang",
    "problem_body",
]

PROBLEM_JSON: Final = "application/problem+json"

#: problem slug -> ((French title, French detail), (English title, English detail)).
PROBLEMS: Final[dict[str, tuple[tuple[str, str], tuple[str, str]]]] = {
    "invalid-parameters": (
        (
            "Paramètres invalides",
            "Un paramètre de la requête est absent ou invalide ; voir « errors ».",
        ),
        ("Invalid parameters", "A query parameter is missing or invalid; see 'errors'."),
    ),
    "missing-place": (
        (
            "Lieu manquant",
            "Indiquez un lieu : code_commune, code_postal, commune, ou lat et lon ensemble.",
        ),
        (
            "Missing place",
            "Give a place: code_commune, code_postal, commune, or lat and lon together.",
        ),
    ),
    "unknown-place": (
        (
            "Lieu inconnu",
            "Aucune commune ne correspond ; vérifiez l'orthographe ou donnez un code postal.",
        ),
        ("Unknown place", "No commune matches; check the spelling or give a postcode."),
    ),
    "ambiguous-place": (
        (
            "Lieu ambigu",
            "Plusieurs communes correspondent ; choisissez-en une dans « choices » (code_commune).",
        ),
        (
            "Ambiguous place",
            "Several communes match; choose one from 'choices' (code_commune).",
        ),
    ),
    "unknown-territory": (
        (
            "Territoire inconnu",
            "Aucune commune n'appartient à ce territoire ; vérifiez le code "
            "(département 93, région 11, EPCI à 9 chiffres).",
        ),
        (
            "Unknown territory",
            "No commune belongs to this territory; check the code "
            "(département 93, région 11, 9-digit EPCI).",
        ),
    ),
    "not-found": (
        ("Introuvable", "Aucun service ne porte cet identifiant."),
        ("Not found", "No service has this id."),
    ),
    "route-not-found": (
        ("Adresse inconnue", "Cette adresse n'existe pas dans l'API ; voir /api/v1/docs."),
        ("Unknown address", "This address does not exist in the API; see /api/v1/docs."),
    ),
    "method-not-allowed": (
        ("Méthode non permise", "Cette adresse ne répond qu'en lecture (GET)."),
        ("Method not allowed", "This address only answers reads (GET)."),
    ),
    "too-many-requests": (
        (
            "Trop de requêtes",
            "Trop de requêtes en peu de temps ; réessayez après le délai indiqué (Retry-After).",
        ),
        ("Too many requests", "Too many requests; retry after the delay given (Retry-After)."),
    ),
    "unavailable": (
        (
            "Service indisponible",
            "Les données ne peuvent pas être lues pour le moment ; réessayez plus tard.",
        ),
        ("Service unavailable", "The data cannot be read right now; try again later."),
    ),
    "internal-error": (
        ("Erreur interne", "Une erreur inattendue s'est produite ; elle a été signalée."),
        ("Internal error", "An unexpected error occurred; it has been reported."),
    ),
}


class ApiProblem(Exception):
    """Raised by endpoints to answer with a problem document.

    Parameters
    ----------
    slug : str
        A key of :data:`PROBLEMS`.
    status : int
        HTTP status code.
    extra : mapping, optional
        Extension members (``choices`` for an ambiguous place...).
    """

    def __init__(self, slug: str, status: int, **extra: Any) -> None:
        super().__init__(slug)
        if slug not in PROBLEMS:
            raise KeyError(slug)
        self.slug = slug
        self.status = status
        self.extra = extra


def negotiate_lang(param: str | None, accept_language: str | None) -> Lang:
    """``en`` or ``fr``: the ``lang`` parameter wins, then ``Accept-Language``'s first tag."""
    if param in ("fr", "en"):
        return "en" if param == "en" else "fr"
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("fr") or tag == "*":
            return "fr"
    return "fr"


def problem_body(slug: str, status: int, lang: Lang, path: str, **extra: Any) -> dict[str, Any]:
    """The JSON of a problem (``instance`` is the path, never the query string)."""
    (fr_title, fr_detail), (en_title, en_detail) = PROBLEMS[slug]
    title, detail = (en_title, en_detail) if lang == "en" else (fr_title, fr_detail)
    return {
        "type": f"/api/v1/problems#{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
        **extra,
    }
