"""Every string the user interface shows, in French first and English second.

Why one table: a page never hard-codes a sentence, so the English switch cannot
miss one, and a test checks that every key has both languages.  Obstacle and
actor-type labels live with their enums in :mod:`mapapp.taxonomy`; the
vocabularies of data·inclusion that the UI shows (publics, frais, modes
d'accueil) are labelled here.

Examples
--------
>>> t("search_button", "fr"), t("search_button", "en")
('Rechercher', 'Search')
>>> t("results_count", "fr", n=3)
'3 services trouvés'
>>> vocab_label("publics", "femmes", "en")
'Women'
>>> vocab_label("publics", "code-inconnu", "fr")
'code-inconnu'
"""

from __future__ import annotations

from typing import Final, Literal

from mapapp.filters import ReceptionMode

__all__ = [
    "LANGS",
    "PUBLICS_CHOICES",
    "STRINGS",
    "VOCABULARIES",
    "Lang",
    "format_km",
    "format_number",
    "parse_lang",
    "t",
    "vocab_label",
]

Lang = Literal["fr", "en"]
#: Languages offered, French first (the default).
LANGS: Final[tuple[Lang, ...]] = ("fr", "en")

#: key -> (French, English).  ``{name}`` placeholders are filled by :func:`t`.
STRINGS: Final[dict[str, tuple[str, str]]] = {
    # -- frame shown on every view
    "app_title": ("Aides pour reprendre un emploi", "Help to get back to work"),
    "app_tagline": (
        "Trouver près de chez soi les services qui lèvent les freins à l'emploi : garde "
        "d'enfants, mobilité, logement, numérique, droits, violences…",
        "Find nearby services that remove obstacles to work: childcare, mobility, housing, "
        "digital skills, rights, violence…",
    ),
    "language": ("Langue / Language", "Langue / Language"),
    "quick_exit": ("Quitter vite", "Quick exit"),
    "quick_exit_help": (
        "Remplace immédiatement cette page par un site neutre.",
        "Immediately replaces this page with a neutral website.",
    ),
    "emergency_title": ("Urgence", "Emergency"),
    "emergency_france": ("France", "France"),
    "emergency_belgique": ("Belgique", "Belgium"),
    "demo_banner": (
        "Données de démonstration : ces lieux n'existent pas. Importez des données réelles "
        "avec « mapapp ingest ».",
        "Demonstration data: these places do not exist. Import real data with 'mapapp ingest'.",
    ),
    "nav_search": ("Rechercher", "Search"),
    "nav_safety": ("Naviguer en sécurité", "Browse safely"),
    "safety_link": (
        "Naviguer en sécurité : ce que le site efface",
        "Browse safely: what this site erases",
    ),
    "nav_coverage": ("Couverture du territoire", "Coverage"),
    "error_generic": (
        "Une erreur est survenue. Réessayez ; si elle persiste, signalez-la.",
        "Something went wrong. Try again; if it persists, please report it.",
    ),
    # -- search form
    "search_header": ("Trouver un service", "Find a service"),
    "place_label": ("Commune ou code postal", "Town or postcode"),
    "place_placeholder": ("ex. Saint-Denis 93, 93200", "e.g. Saint-Denis 93, 93200"),
    "place_help": (
        "Les accents et les tirets sont facultatifs ; ajoutez le département si plusieurs "
        "communes portent ce nom. Ce que vous tapez n'est ni enregistré ni envoyé à un tiers.",
        "Accents and hyphens are optional; add the département if several towns share the "
        "name. What you type is neither stored nor sent to anyone else.",
    ),
    "obstacles_label": ("Besoins (un ou plusieurs)", "Needs (one or more)"),
    "match_label": ("Les services doivent couvrir", "Services must cover"),
    "match_any": ("au moins un de ces besoins", "at least one of these needs"),
    "match_all": ("tous ces besoins à la fois", "all of these needs at once"),
    "more_filters": ("Plus de filtres", "More filters"),
    "types_label": ("Types de structure", "Kinds of organisation"),
    "types_placeholder": ("Tous les types", "All kinds"),
    "publics_label": ("Public", "Who is it for"),
    "publics_placeholder": ("Tous publics", "Everyone"),
    "free_only": ("Gratuit seulement", "Free of charge only"),
    "radius_label": ("Distance maximale", "Maximum distance"),
    "radius_none": ("sans limite", "no limit"),
    "limit_label": ("Nombre de résultats", "Number of results"),
    "search_button": ("Rechercher", "Search"),
    "edit_search": ("Modifier", "Change"),
    "needs_any": ("tous besoins", "any need"),
    # -- place resolution
    "place_missing": (
        "Indiquez une commune ou un code postal.",
        "Please type a town or a postcode.",
    ),
    "place_unknown": (
        "Aucune commune ne correspond à ce que vous avez tapé. Vérifiez l'orthographe ou "
        "essayez le code postal.",
        "No town matches what you typed. Check the spelling or try the postcode.",
    ),
    "place_choose": (
        "Plusieurs communes correspondent : choisissez",
        "Several towns match: choose",
    ),
    "place_did_you_mean": ("Vouliez-vous dire :", "Did you mean:"),
    "place_choice_label": ("Commune", "Town"),
    # -- where distances start (issue 12 item 2): the commune, a map point, her position
    "start_from_commune": (
        "Distances à vol d'oiseau depuis le centre de {place}.",
        "Straight-line distances from the centre of {place}.",
    ),
    "start_from_point": (
        "Distances à vol d'oiseau depuis le point choisi sur la carte.",
        "Straight-line distances from the point chosen on the map.",
    ),
    "start_from_position": (
        "Distances à vol d'oiseau depuis votre position (arrondie à environ 100 m).",
        "Straight-line distances from your position (rounded to about 100 m).",
    ),
    "start_point_label": ("ce point de la carte", "this point on the map"),
    "start_position_label": ("votre position", "your position"),
    "use_position": ("Utiliser ma position", "Use my position"),
    "position_note": (
        "Votre position n'est demandée que si vous touchez ce bouton. Arrondie à environ "
        "100 m, elle sert à cette recherche seulement : ni enregistrée, ni mise dans "
        "l'adresse de la page.",
        "Your position is asked for only if you tap this button. Rounded to about 100 m, it "
        "is used for this search only: not stored, not put in the page address.",
    ),
    "position_locating": ("Recherche de votre position…", "Finding your position…"),
    "position_failed": (
        "Votre position n'est pas disponible (refusée ou introuvable) : tapez votre commune.",
        "Your position is not available (refused or not found): type your town.",
    ),
    "position_ready": (
        "Départ : votre position (arrondie à environ 100 m). Choisissez vos besoins puis "
        "« Rechercher » ; la commune peut rester vide.",
        "Start: your position (rounded to about 100 m). Choose your needs, then 'Search'; "
        "the town can stay empty.",
    ),
    "map_clicked": (
        "Point choisi sur la carte : {lat}, {lon}",
        "Point chosen on the map: {lat}, {lon}",
    ),
    "map_click_hint": (
        "Touchez la carte pour choisir un autre point de départ.",
        "Tap the map to choose another starting point.",
    ),
    "start_here": ("Partir de ce point", "Start from this point"),
    "start_back_commune": ("Repartir de la commune", "Start from the town again"),
    "start_forget": ("Oublier ce point de départ", "Forget this starting point"),
    "start_is_point": (
        "Départ : le point choisi sur la carte.",
        "Start: the point chosen on the map.",
    ),
    # -- results
    "results_header": ("Services les plus proches de {place}", "Nearest services to {place}"),
    "results_count": ("{n} services trouvés", "{n} services found"),
    "results_count_one": ("1 service trouvé", "1 service found"),
    "results_none": (
        "Aucun service ne correspond. Élargissez la distance ou retirez un filtre.",
        "No service matches. Widen the distance or remove a filter.",
    ),
    "results_hint": (
        "Choisissez une commune et un ou plusieurs besoins, puis « Rechercher ».",
        "Choose a town and one or more needs, then 'Search'.",
    ),
    "distance_note": ("à vol d'oiseau", "as the crow flies"),
    "tab_list": ("Liste", "List"),
    "tab_map": ("Carte", "Map"),
    "remote_header": (
        "Services à distance (téléphone, en ligne)",
        "Remote services (phone, online)",
    ),
    "remote_note": (
        "Ces services se joignent sans se déplacer : pas de distance.",
        "These services are reached without travelling: no distance.",
    ),
    "details": ("Tous les détails", "All details"),
    "details_of": ("Détails : {name}", "Details: {name}"),
    "selected_label": ("Voir le détail de", "Show details of"),
    "field_type": ("Type", "Kind"),
    "field_obstacles": ("Besoins couverts", "Needs covered"),
    "field_distance": ("Distance", "Distance"),
    "field_address": ("Adresse", "Address"),
    "field_phone": ("Téléphone", "Phone"),
    "field_hours": ("Horaires", "Opening hours"),
    "field_email": ("Courriel", "E-mail"),
    "field_website": ("Site web", "Website"),
    "field_publics": ("Public", "Who is it for"),
    "field_frais": ("Coût", "Cost"),
    "field_modes": ("Accueil", "How"),
    "field_description": ("Présentation", "Description"),
    "field_structure": ("Structure", "Organisation"),
    "field_updated": ("Mise à jour", "Updated"),
    "field_source": ("Source", "Source"),
    "field_ref": ("Référence", "Reference"),
    "field_today": ("Aujourd'hui", "Today"),
    "field_conditions": ("Conditions", "Conditions"),
    "confidential_note": (
        "Adresse confidentielle (mise à l'abri) : le lieu est montré au centre de sa commune. "
        "Appelez le numéro indiqué pour être orientée.",
        "Confidential address (shelter): the place is shown at the centre of its town. "
        "Call the number given to be referred.",
    ),
    "hours_unknown": ("horaires non renseignés", "hours not given"),
    "no_phone": ("non renseigné", "not given"),
    # -- map
    "map_show": ("Voir la carte", "Show the map"),
    "map_background": ("Fond de carte", "Map background"),
    "map_background_help": (
        "Activez-le pour voir les rues : il est alors chargé depuis {host}, qui voit la zone "
        "affichée. Éteint, rien n'est chargé d'un autre site. Ce choix dure le temps de la visite.",
        "Turn it on to see the streets: it is then loaded from {host}, which sees the area "
        "shown. Off, nothing is loaded from another site. The choice lasts for this visit.",
    ),
    "map_caption": (
        "Les numéros sur la carte renvoient à la liste.",
        "Numbers on the map refer to the list.",
    ),
    "map_search_point": ("Point de recherche : {place}", "Search point: {place}"),
    # -- print / share
    "sheet_header": ("Imprimer / partager", "Print / share"),
    "sheet_text": ("Fiche texte (.txt)", "Text sheet (.txt)"),
    "sheet_csv": ("Tableau (.csv)", "Spreadsheet (.csv)"),
    "sheet_note": (
        "La fiche est créée dans votre navigateur à partir de la liste ; rien n'est conservé "
        "sur le serveur.",
        "The sheet is built from the list and downloaded by your browser; nothing is kept on "
        "the server.",
    ),
    "sheet_title": ("Fiche ressources", "Resource sheet"),
    "sheet_around": ("Autour de : {place}", "Around: {place}"),
    "sheet_needs": ("Besoins : {needs}", "Needs: {needs}"),
    "sheet_demo": (
        "ATTENTION : données de démonstration, ces lieux n'existent pas.",
        "WARNING: demonstration data, these places do not exist.",
    ),
    # -- what a card says (mapapp.servicecard; search page, plan, PDF sheet, light page)
    "colon": (" : ", ": "),
    "card_commune_only": (
        "adresse précise non connue, dans la commune de {commune}",
        "exact address unknown, in the commune of {commune}",
    ),
    "card_approximate": (
        "position approximative, distance non connue",
        "approximate position, distance unknown",
    ),
    "card_commune_unknown": ("adresse et commune non connues", "address and commune unknown"),
    "card_centre_at": ("centre à environ {km}", "its centre about {km} away"),
    "card_contact_unknown": ("contact inconnu", "contact unknown"),
    "card_today": ("aujourd'hui : {hours}", "today: {hours}"),
    "card_closed_today": ("fermé aujourd'hui", "closed today"),
    "card_publics": ("Public", "For"),
    "card_frais": ("Frais", "Fees"),
    "card_modes": ("Accueil", "Reception"),
    "card_org": ("Organisation", "Organisation"),
    "card_org_unknown": ("organisation non précisée", "organisation not given"),
    "card_source_page": ("fiche d'origine", "original record"),
    "card_confidential": (
        "Adresse confidentielle : appelez le {phone} pour être orientée.",
        "Confidential address: call {phone} to be referred.",
    ),
    "osm_Mo": ("lun.", "Mon"),
    "osm_Tu": ("mar.", "Tue"),
    "osm_We": ("mer.", "Wed"),
    "osm_Th": ("jeu.", "Thu"),
    "osm_Fr": ("ven.", "Fri"),
    "osm_Sa": ("sam.", "Sat"),
    "osm_Su": ("dim.", "Sun"),
    "osm_PH": ("jours fériés", "public holidays"),
    "osm_off": ("fermé", "closed"),
    "osm_24_7": ("24 h/24, 7 j/7", "24/7"),
    # -- the plan on the search page (mapapp.ui.plan_view)
    "plan_title": ("Votre plan", "Your plan"),
    "plan_places": ("Lieux où aller", "Places to go"),
    "plan_pdf": ("Télécharger la fiche (PDF)", "Download the sheet (PDF)"),
    "plan_share": ("Lien à partager", "Link to share"),
    "plan_share_help": (
        "Ce lien ne contient que les identifiants des services : ni le lieu, ni les besoins, "
        "ni les filtres.",
        "This link holds only the services' ids: not the place, the needs or the filters.",
    ),
    "plan_print_note": (
        "Pour imprimer : Ctrl+P imprime le plan seul, sans l'interface.",
        "To print: Ctrl+P prints the plan alone, without the interface.",
    ),
    "plan_shared_title": ("Liste partagée", "Shared list"),
    "plan_shared_count": (
        "{n} service(s) ; distances non connues (le lien ne dit pas d'où).",
        "{n} service(s); distances unknown (the link does not say from where).",
    ),
    "plan_shared_none": (
        "Aucun service de ce lien n'est connu ici.",
        "None of this link's services is known here.",
    ),
    "plan_shared_close": ("Revenir à la recherche", "Back to the search"),
    "plan_offer": (
        "Aucun lieu ne couvre tous ces besoins à la fois : le plan ci-dessous les couvre "
        "avec plusieurs lieux proches.",
        "No place covers all these needs at once: the plan below covers them with several "
        "near places.",
    ),
    # the plan itself (mapapp.plan: page, command, API, sheet)
    "plan_cover": (
        "{places} couvrent vos {needs} besoins : le moins de lieux possible, et parmi eux "
        "les plus proches (un lieu de plus seulement s'il évite plus de {cost}).",
        "{places} cover your {needs} needs: the fewest places, and among them the nearest "
        "(one more place only when it saves more than {cost}).",
    ),
    "plan_cover_one_need": (
        "Le lieu le plus proche pour ce besoin.",
        "The nearest place for this need.",
    ),
    "plan_partial": (
        "{places} couvrent {covered} de vos {needs} besoins ; rien dans un rayon de {radius} "
        "pour : {missing}.",
        "{places} cover {covered} of your {needs} needs; nothing within {radius} for: {missing}.",
    ),
    "plan_none": (
        "Aucun lieu dans un rayon de {radius} pour ces besoins.",
        "No place within {radius} for these needs.",
    ),
    "plan_no_needs": ("Choisissez au moins un besoin.", "Choose at least one need."),
    "plan_places_1": ("1 lieu", "1 place"),
    "plan_places_n": ("{n} lieux", "{n} places"),
    "plan_nothing_within": (
        "Rien dans un rayon de {radius}.",
        "Nothing within {radius}.",
    ),
    "plan_nearest_beyond": (
        "Le plus proche : {name}, à {km}.",
        "The nearest: {name}, {km} away.",
    ),
    "plan_nothing_at_all": (
        "Aucun service connu pour ce besoin.",
        "No known service for this need.",
    ),
    "filter_open_now": (
        "Ouvert maintenant (heure locale du lieu)",
        "Open now (the place's local time)",
    ),
    "filter_open_day": ("Ouvert le", "Open on"),
    "filter_any_day": ("n'importe quel jour", "any day"),
    "filter_frais": ("Frais", "Fees"),
    "filter_modes": ("Accueil", "Reception"),
    "filter_hours_note": (
        "Les lieux sans horaires connus ne sont pas gardés par ces deux filtres.",
        "Places whose hours are unknown are left out by these two filters.",
    ),
    "weekday_0": ("lundi", "Monday"),
    "weekday_1": ("mardi", "Tuesday"),
    "weekday_2": ("mercredi", "Wednesday"),
    "weekday_3": ("jeudi", "Thursday"),
    "weekday_4": ("vendredi", "Friday"),
    "weekday_5": ("samedi", "Saturday"),
    "weekday_6": ("dimanche", "Sunday"),
    # -- the printed sheet (mapapp.render.sheet, PDF)
    "sheet_date": ("Le {date}", "On {date}"),
    "sheet_pdf_demo": (
        "Données de démonstration : ces lieux n'existent pas.",
        "Demonstration data: these places do not exist.",
    ),
    "sheet_from": (
        "Distances depuis : {place} (à vol d'oiseau)",
        "Distances from: {place} (as the crow flies)",
    ),
    "sheet_filters": ("Filtres : {filters}", "Filters: {filters}"),
    "sheet_no_filters": ("Filtres : aucun", "Filters: none"),
    "sheet_plan": ("Le plan", "The plan"),
    "sheet_stop": ("{name} : {needs}", "{name}: {needs}"),
    "sheet_qr_source": ("QR : fiche d'origine", "QR: original record"),
    "sheet_qr_site": ("QR : site web", "QR: website"),
    "sheet_footer": (
        "Urgence : 112 · Violences femmes : 3919 (gratuit, 24 h/24)",
        "Emergency: 112 · Violence against women: 3919 (free, 24/7)",
    ),
    "sheet_page": ("page {n}", "page {n}"),
    "month_1": ("janvier", "January"),
    "month_2": ("février", "February"),
    "month_3": ("mars", "March"),
    "month_4": ("avril", "April"),
    "month_5": ("mai", "May"),
    "month_6": ("juin", "June"),
    "month_7": ("juillet", "July"),
    "month_8": ("août", "August"),
    "month_9": ("septembre", "September"),
    "month_10": ("octobre", "October"),
    "month_11": ("novembre", "November"),
    "month_12": ("décembre", "December"),
    # -- the light page (mapapp.web.light, /m)
    "light_title": ("Trouver de l'aide près de chez soi", "Find help near you"),
    "light_lead": (
        "Tapez votre commune, cochez ce dont vous avez besoin : les services les plus "
        "proches s'affichent, avec leur téléphone.",
        "Type your town, tick what you need: the nearest services are listed, with their "
        "phone number.",
    ),
    "light_sos_title": ("En danger ? Appelez", "In danger? Call"),
    "light_sos_why": ("À quoi servent ces numéros", "What these numbers are for"),
    "light_sms": ("SMS", "text"),
    "light_needs_legend": ("De quoi avez-vous besoin ?", "What do you need?"),
    "light_go": ("Voir l'aide près de chez moi", "Show help near me"),
    "light_other_lang": ("English", "Français"),
    "light_other_lang_code": ("en", "fr"),
    "light_exit_help": (
        "« Quitter vite » remplace aussitôt cette page par un site neutre.",
        "'Quick exit' immediately replaces this page with a neutral website.",
    ),
    "light_colon": (" : ", ": "),
    "light_map_button": ("Voir ces lieux sur une carte", "Show these places on a map"),
    "light_map_title": ("Carte : aide près de {place}", "Map: help near {place}"),
    "light_map_tiles_note": (
        "La carte charge son fond depuis {host}, qui voit la zone affichée.",
        "The map loads its background from {host}, which sees the area shown.",
    ),
    "light_map_no_tiles": (
        "Carte sans fond : les points seuls, rien n'est chargé d'ailleurs.",
        "Map without background: the points only, nothing is loaded from elsewhere.",
    ),
    "light_map_you": ("Point de départ : {place}", "Starting point: {place}"),
    "light_back_to_list": ("Retour à la liste", "Back to the list"),
    "light_map_needs_js": (
        "La carte a besoin de JavaScript ; la liste ci-dessous suffit.",
        "The map needs JavaScript; the list below is enough.",
    ),
    "light_privacy": (
        "Votre recherche n'est ni enregistrée, ni mise dans l'adresse de la page, ni "
        "envoyée à un tiers. Aucun cookie.",
        "Your search is not stored, not put in the page address and sent to no one. No cookies.",
    ),
    "light_history": (
        "Ce que le navigateur peut garder : l'historique montre la visite de ce site "
        "(effacez-le, ou utilisez la navigation privée), et le journal d'appels du "
        "téléphone garde les numéros composés.",
        "What the browser may still keep: its history shows the visit to this site "
        "(delete it, or use a private window), and the phone's call log keeps the numbers "
        "dialled.",
    ),
    "light_results_title": ("Aide près de {place}", "Help near {place}"),
    "light_new_search": ("Nouvelle recherche", "New search"),
    "light_none_within": (
        "Aucun service à moins de {km} km pour ce besoin. Appelez le 3919 pour être orientée.",
        "No service within {km} km for this need. Call 3919 to be referred.",
    ),
    "light_any_need": ("Tous les services", "All services"),
    "light_at_commune": (
        "Adresse indiquée à l'échelle de la commune : distance non précise.",
        "Located at the level of its town only: no precise distance.",
    ),
    "light_confidential": (
        "Adresse confidentielle (mise à l'abri). Appelez ce numéro pour être orientée.",
        "Confidential address (shelter). Call this number to be referred.",
    ),
    "light_km_away": ("à {km} (à vol d'oiseau)", "{km} away (as the crow flies)"),
    "light_today": ("Aujourd'hui : {hours}", "Today: {hours}"),
    "light_today_closed": ("Fermé aujourd'hui", "Closed today"),
    "light_open_now": ("ouvert maintenant", "open now"),
    "light_hours_as_given": ("Horaires : {hours}", "Hours: {hours}"),
    "light_no_phone": ("Téléphone non renseigné", "No phone given"),
    "light_call": ("Appeler le {phone}", "Call {phone}"),
    "light_choose_go": ("Voir l'aide", "Show help"),
    "light_too_long": (
        "Ce que vous avez tapé est trop long : tapez seulement le nom de la commune ou le "
        "code postal.",
        "What you typed is too long: type only the town name or the postcode.",
    ),
    "light_demo": (
        "Données de démonstration : ces lieux n'existent pas.",
        "Demonstration data: these places do not exist.",
    ),
    "light_replayed": (
        "Pour votre sécurité, une recherche n'est jamais ré-affichée : refaites-la si besoin.",
        "For your safety, a search is never shown again: do it again if you need to.",
    ),
    "light_broken": (
        "La recherche n'a pas pu aboutir. Réessayez dans un instant, ou appelez le 3919.",
        "The search could not be completed. Try again in a moment, or call 3919.",
    ),
    # -- mapapp duplicates (command line)
    "dup_none": (
        "Aucun regroupement : chaque fiche est un lieu à part.",
        "No clusters: every record is a place of its own.",
    ),
    "dup_no_store": (
        "Aucun import pour l'instant : lancez 'mapapp ingest FICHIER'.",
        "Nothing imported yet: run 'mapapp ingest FILE'.",
    ),
    "dup_unknown": (
        "aucune fiche ni regroupement « {id} » ; 'mapapp duplicates' les liste",
        "no record or cluster '{id}'; 'mapapp duplicates' lists them",
    ),
    "dup_header": (
        "Regroupement {cid} : {n} fiches, un seul lieu (fiche principale : {cid})",
        "Cluster {cid}: {n} records, one place (primary record: {cid})",
    ),
    "dup_alone": (
        "{cid} n'est regroupée avec aucune autre fiche.",
        "{cid} is not clustered with any other record.",
    ),
    "dup_overrides": (
        "Corriger : {path} (voir docs/duplicates.md), puis relancer un import.",
        "To fix: {path} (see docs/duplicates.md), then import again.",
    ),
    # -- safety page
    "safety_title": ("Naviguer en sécurité", "Browse safely"),
    "safety_intro": (
        "Si quelqu'un surveille votre téléphone ou votre ordinateur, voici ce que ce site "
        "fait pour vous protéger, et ce qu'il ne peut pas faire.",
        "If someone watches your phone or computer, here is what this site does to protect "
        "you, and what it cannot do.",
    ),
    "safety_does_title": ("Ce que le site fait", "What the site does"),
    "safety_does": (
        "- Le bouton **Quitter vite**, en haut de chaque page, remplace aussitôt la page par "
        "un site neutre et efface ce que ce site a rangé dans le navigateur.\n"
        "- Votre recherche (commune, besoins) n'est pas enregistrée sur le serveur, n'est pas "
        "mise dans l'adresse de la page et n'est envoyée à personne.\n"
        "- Les adresses des lieux de mise à l'abri ne sont jamais affichées.\n"
        "- Aucune statistique d'usage ni traceur publicitaire.",
        "- The **Quick exit** button, at the top of every page, instantly replaces the page "
        "with a neutral site and erases what this site stored in the browser.\n"
        "- Your search (town, needs) is not stored on the server, is not put in the page "
        "address and is sent to no one.\n"
        "- Shelter addresses are never shown.\n"
        "- No usage statistics and no advertising trackers.",
    ),
    "safety_cannot_title": ("Ce que le site ne peut pas effacer", "What the site cannot erase"),
    "safety_cannot": (
        "- **L'historique du navigateur** garde la visite de ce site : supprimez-le, ou "
        "utilisez une fenêtre de navigation privée.\n"
        "- **Le journal des appels et des SMS** de votre téléphone garde les numéros composés "
        "(y compris le 3919) : effacez-les après l'appel si nécessaire. Le 3919 n'apparaît "
        "pas sur les factures détaillées.\n"
        "- **Les fiches téléchargées** restent dans le dossier Téléchargements.\n"
        "- **Le fond de carte** n'est chargé que si vous l'activez (interrupteur « Fond de "
        "carte », au-dessus de la carte) : le serveur de cartes voit alors la zone affichée. "
        "Ce choix est oublié à la fin de la visite.\n"
        "- Un logiciel espion installé sur l'appareil peut tout voir : en cas de doute, "
        "utilisez un autre téléphone ou un ordinateur public.",
        "- **The browser history** keeps the visit to this site: delete it, or use a private "
        "window.\n"
        "- **The call and text log** of your phone keeps the numbers dialled (3919 included): "
        "delete them after the call if needed. 3919 does not appear on itemised bills.\n"
        "- **Downloaded sheets** stay in the Downloads folder.\n"
        "- **The map background** is loaded only if you turn it on (the 'Map background' "
        "switch, above the map): the map server then sees the area shown. This choice is "
        "forgotten when the visit ends.\n"
        "- Spyware installed on the device can see everything: if in doubt, use another "
        "phone or a public computer.",
    ),
    "safety_numbers_title": ("Numéros d'urgence", "Emergency numbers"),
    "safety_exit_title": ("Quitter vite", "Quick exit"),
    "safety_exit": (
        "Cliquez sur **Quitter vite** (en haut de l'écran), ou appuyez **trois fois sur la "
        "touche Maj (Shift)** hors d'une zone de saisie : la page est remplacée par une "
        "recherche météo et la touche Retour ne revient pas ici.",
        "Click **Quick exit** (top of the screen), or press **Shift three times** outside a "
        "text box: the page is replaced by a weather search and the Back button does not "
        "come back here.",
    ),
    "safety_private_title": ("Navigation privée", "Private browsing"),
    "safety_private": (
        "Une fenêtre de navigation privée n'enregistre ni l'historique ni les données des "
        "sites une fois fermée : Chrome « Nouvelle fenêtre de navigation privée », Firefox "
        "« Nouvelle fenêtre privée », Safari « Navigation privée ».",
        "A private window keeps neither history nor site data once closed: Chrome 'New "
        "Incognito window', Firefox 'New private window', Safari 'Private Browsing'.",
    ),
    # -- register of reserved crèche places: coordinators' pages (/registre)
    "reserved_title": (
        "Places réservées en crèche — coordination",
        "Reserved crèche places — coordination",
    ),
    "reserved_other_lang": ("English", "Français"),
    "reserved_continue": ("Continuer", "Continue"),
    "reserved_sign_in": ("Se connecter", "Sign in"),
    "reserved_sign_in_intro": (
        "Réservé aux coordinatrices du réseau. Les autres visiteurs consultent les places "
        "dans la recherche.",
        "For the network's coordinators only. Other visitors see the places in the search.",
    ),
    "reserved_bad_login": (
        "Nom de compte ou mot de passe incorrect.",
        "Wrong account name or password.",
    ),
    "reserved_account": ("Nom de compte", "Account name"),
    "reserved_password": ("Mot de passe", "Password"),
    "reserved_signed_in_as": ("Connectée : {name}", "Signed in: {name}"),
    "reserved_role_admin": ("administration", "admin"),
    "reserved_role_coordinator": ("coordination", "coordinator"),
    "reserved_sign_out": ("Se déconnecter", "Sign out"),
    "reserved_my_creches": ("Les crèches de mon périmètre", "The crèches of my scope"),
    "reserved_admin_dep": (
        "Afficher aussi les crèches du département (code) :",
        "Also show the crèches of the département (code):",
    ),
    "reserved_show": ("Afficher", "Show"),
    "reserved_none_in_scope": (
        "Aucune crèche dans ce périmètre.",
        "No crèche in this scope.",
    ),
    "reserved_col_creche": ("Crèche", "Crèche"),
    "reserved_col_commune": ("Commune", "Commune"),
    "reserved_col_places": ("Places réservées", "Reserved places"),
    "reserved_col_confirmed": ("Confirmé le", "Confirmed on"),
    "reserved_free_of": (
        "{free} libre(s) sur {reserved}",
        "{free} free of {reserved}",
    ),
    "reserved_change": ("Modifier", "Change"),
    "reserved_back": ("← Retour à la liste", "← Back to the list"),
    "reserved_saved": ("Enregistré.", "Saved."),
    "reserved_last_confirmed": (
        "Dernière confirmation : {when} UTC",
        "Last confirmed: {when} UTC",
    ),
    "reserved_confirm": (
        "Confirmer que c'est toujours exact",
        "Confirm it is still accurate",
    ),
    "reserved_field_partner": (
        "Partenaire qui réserve (jamais montré au public)",
        "Partner reserving the places (never shown to the public)",
    ),
    "reserved_field_places_reserved": ("Places réservées", "Reserved places"),
    "reserved_field_places_free": ("Places libres maintenant", "Places free now"),
    "reserved_field_valid_from": ("Valable à partir du", "Valid from"),
    "reserved_field_valid_until": ("Valable jusqu'au", "Valid until"),
    "reserved_field_ages": ("Âges des enfants", "Children's ages"),
    "reserved_field_hours": ("Horaires", "Hours"),
    "reserved_field_who_may_refer": ("Qui peut orienter", "Who may refer"),
    "reserved_save": ("Enregistrer", "Save"),
    "reserved_history": ("Historique", "History"),
    "reserved_col_when": ("Quand (UTC)", "When (UTC)"),
    "reserved_col_who": ("Qui", "Who"),
    "reserved_col_field": ("Champ", "Field"),
    "reserved_col_change": ("Avant → après", "Before → after"),
    "reserved_form_expired": (
        "Ce formulaire a expiré ou a déjà été envoyé : rechargez la page et recommencez.",
        "This form has expired or was already sent: reload the page and try again.",
    ),
    "reserved_unknown_creche": (
        "Cette crèche n'existe pas dans l'annuaire.",
        "This crèche is not in the directory.",
    ),
    "reserved_out_of_scope": (
        "Cette crèche n'est pas dans votre périmètre : vous ne pouvez pas la modifier.",
        "This crèche is outside your scope: you cannot change it.",
    ),
    "reserved_signed_out": (
        "Connectez-vous pour modifier le registre.",
        "Sign in to change the register.",
    ),
    "reserved_too_many": (
        "Trop d'essais de connexion : attendez quelques minutes avant de réessayer.",
        "Too many sign-in attempts: wait a few minutes before trying again.",
    ),
    "reserved_store_unavailable": (
        "Le registre est indisponible pour le moment : réessayez dans une minute.",
        "The register is unavailable right now: try again in a minute.",
    ),
    # -- coverage view (coordinators)
    "cov_title": ("Couverture du territoire", "Coverage of the territory"),
    "cov_intro": (
        "Pour chaque commune : la distance **à vol d'oiseau** (depuis un point "
        "représentatif de la commune) jusqu'au service sur place le plus proche, la "
        "population concernée, et où un service de plus aiderait le plus. Les services "
        "uniquement à distance sont comptés à part ; les services à adresse confidentielle "
        "comptent au centre de leur commune. Paris, Lyon et Marseille par arrondissement.",
        "For each commune: the **great-circle** distance (from a representative point of "
        "the commune) to the nearest in-person service, how many people it concerns, and "
        "where one more service would help most. Remote-only services are counted apart; "
        "services with a confidential address count at their commune. Paris, Lyon and "
        "Marseille by arrondissement.",
    ),
    "cov_by": ("Services comptés", "Services counted"),
    "cov_by_obstacle": ("par frein", "by obstacle"),
    "cov_by_type": ("par type d'acteur", "by actor type"),
    "cov_obstacles": ("Frein(s)", "Obstacle(s)"),
    "cov_types": ("Type(s) d'acteur", "Actor type(s)"),
    "cov_match": ("Avec plusieurs freins, un service doit couvrir", "With several obstacles"),
    "cov_match_any": ("l'un d'eux", "any of them"),
    "cov_match_all": ("tous", "all of them"),
    "cov_territory": ("Territoire", "Territory"),
    "cov_radius": ("Rayon « à portée » (km)", "Within reach (km)"),
    "cov_measure": ("Carte", "Map"),
    "cov_m_distance": ("distance au service le plus proche", "distance to the nearest service"),
    "cov_m_access": ("places par habitant", "places per inhabitant"),
    "cov_measure_help": (
        "« Places par habitant » est une mesure appelée 2SFCA (méthode à deux étapes) : "
        "chaque service partage ses places entre les habitants qui vivent assez près, puis "
        "chaque commune additionne les parts des services proches.",
        "'Places per inhabitant' is a measure called 2SFCA (two-step floating catchment "
        "area): each service shares its places among the people living close enough, then "
        "each commune adds up its shares of the services nearby.",
    ),
    "cov_catchment": (
        "Distance jusqu'où un service partage ses places (km)",
        "Distance within which a service shares its places (km)",
    ),
    "cov_catchment_help": (
        "Pour « places par habitant » (méthode 2SFCA) : les places de chaque service (places "
        "de crèche quand on les connaît, sinon 1) sont partagées entre les habitants à moins "
        "de cette distance.",
        "For 'places per inhabitant' (the 2SFCA method): each service's places (crèche "
        "places when known, else 1) are shared among the people within this distance.",
    ),
    "cov_compare": ("Comparer avec (facultatif)", "Compare with (optional)"),
    "cov_none": ("—", "—"),
    "cov_choose": ("Choisir…", "Choose…"),
    "cov_suggest": (
        "Communes proposées pour un nouveau service",
        "Communes proposed for a new service",
    ),
    "cov_submit": ("Analyser", "Analyse"),
    "cov_france": ("France entière", "All of France"),
    "cov_kind_departement": ("Département", "Département"),
    "cov_kind_region": ("Région", "Région"),
    "cov_kind_epci": ("EPCI", "EPCI"),
    "cov_pick_something": (
        "Choisissez au moins un frein ou un type.",
        "Pick an obstacle or a type.",
    ),
    "cov_m_population": ("Population totale", "Total population"),
    "cov_population_note": (
        "Population totale des communes (recensement), pas seulement les personnes "
        "concernées par ce besoin, que les données de référence ne donnent pas.",
        "Total population of the communes (census), not only the people with this need, "
        "which the reference data do not give.",
    ),
    "cov_population_unknown": ("population inconnue", "population unknown"),
    "cov_unknown_note": (
        "{n} communes sans population dans les données de référence (Mayotte) : population "
        "inconnue, elles ne comptent pas dans les totaux et ne peuvent pas être proposées.",
        "{n} communes have no population in the reference data (Mayotte): population "
        "unknown, they are left out of the totals and cannot be proposed.",
    ),
    "cov_all_services": ("tous les services", "all services"),
    "cov_and": ("et", "and"),
    "cov_or": ("ou", "or"),
    "cov_m_within": ("À portée ({r} km)", "Within {r} km"),
    "cov_m_mean": ("Distance moyenne", "Mean distance"),
    "cov_m_p90": ("90 % à moins de", "90% within"),
    "cov_m_beyond": ("Communes hors de portée", "Communes out of reach"),
    "cov_m_services": ("Services sur place / à distance", "In-person / remote services"),
    "cov_m_access_mean": ("Capacité pour 10 000 hab.", "Capacity per 10,000 inh."),
    "cov_legend": ("Légende", "Legend"),
    "cov_map_level_dep": (
        "Carte par département (moyennes pondérées par la population).",
        "Map by département (population-weighted means).",
    ),
    "cov_click": ("Cliquez une zone pour ses chiffres.", "Click an area for its figures."),
    "cov_worst": ("Communes les moins bien couvertes", "Worst-covered communes"),
    "cov_all_figures": ("Tous les chiffres du territoire", "All figures for the territory"),
    "cov_download": ("Télécharger", "Download"),
    "cov_dl_sites": ("Communes proposées (CSV)", "Proposed communes (CSV)"),
    "cov_dl_csv": ("Tableau (CSV)", "Table (CSV)"),
    "cov_dl_geojson": ("Couche (GeoJSON)", "Layer (GeoJSON)"),
    "cov_dl_gpkg": ("Couche (GeoPackage)", "Layer (GeoPackage)"),
    "cov_suggest_header": (
        "Où un service de plus aiderait le plus ?",
        "Where would one more service help most?",
    ),
    "cov_suggest_intro": (
        "Aujourd'hui, {n} personnes vivent à plus de {r} km d'un service. Chaque ligne "
        "indique combien de personnes un nouveau service dans cette commune mettrait à "
        "portée, en plus des lignes précédentes. Les communes sont choisies une à une : la "
        "première est le meilleur emplacement possible ; pour 3 à 5 sites, un choix "
        "d'ensemble peut toucher un peu plus de monde (jusqu'à 8,5 % de plus mesuré en "
        "Lozère à 10 km).",
        "Today {n} people live more than {r} km from a service. Each row says how many "
        "people a new service in that commune would bring within reach, on top of the rows "
        "above. Communes are chosen one at a time: the first is the best single site; for 3 "
        "to 5 sites, choosing them together can reach slightly more people (up to 8.5% more "
        "measured in Lozère at 10 km).",
    ),
    "cov_suggest_none": ("Personne n'est hors de portée.", "Nobody is out of reach."),
    "cov_compare_header": ("Comparaison", "Comparison"),
    "cov_no_service": ("aucun service", "no service"),
    "cov_nearest": ("Service le plus proche", "Nearest service"),
    "cov_col_code": ("Code INSEE", "INSEE code"),
    "cov_col_nom": ("Nom", "Name"),
    "cov_col_distance": ("Distance à vol d'oiseau (km)", "Great-circle distance (km)"),
    "cov_col_nearest_commune": ("Commune du service", "Service's commune"),
    "cov_col_gained": ("Personnes mises à portée", "People brought within reach"),
    "cov_col_communes_gained": ("Communes mises à portée", "Communes brought within reach"),
    "cov_col_beyond_after": ("Restent hors de portée", "Still out of reach"),
    # -- coverage figures (page, command line, notebook)
    "fig_communes": ("Communes", "Communes"),
    "fig_population": ("Population totale", "Total population"),
    "fig_population_within": ("Population à moins de {t} km", "Population within {t} km"),
    "fig_share_within": (
        "Part de la population à moins de {t} km",
        "Share of population within {t} km",
    ),
    "fig_mean_distance_km": (
        "Distance moyenne, pondérée par la population",
        "Population-weighted mean distance",
    ),
    "fig_p90_distance_km": (
        "Distance sous laquelle vit 90 % de la population",
        "Distance within which 90% of people live",
    ),
    "fig_communes_beyond_radius": (
        "Communes sans service à moins de {r} km",
        "Communes with no service within {r} km",
    ),
    "fig_population_beyond_radius": (
        "Population sans service à moins de {r} km",
        "People with no service within {r} km",
    ),
    "fig_population_without_service": (
        "Population sans aucun service dans sa zone (métropole ou DROM)",
        "People with no service at all in their zone (mainland or overseas département)",
    ),
    "fig_services": (
        "Services sur place dans le territoire",
        "In-person services in the territory",
    ),
    "fig_remote_services": (
        "Services à distance uniquement (comptés à part)",
        "Remote-only services (counted apart)",
    ),
    "fig_services_at_commune": (
        "Services placés au centre de leur commune (adresse confidentielle ou inconnue)",
        "Services placed at their commune (confidential or unknown address)",
    ),
    "fig_services_unplaced": (
        "Services sans lieu connu (non comptés)",
        "Services with no known place (not counted)",
    ),
    "fig_accessibility_per_10k": (
        "Places pour 10 000 habitants (méthode 2SFCA)",
        "Places per 10,000 inhabitants (2SFCA method)",
    ),
    # -- reserved childcare places (issue 17; mapapp.reserved_view)
    "plan_reserved_preferred": (
        "Garde d'enfants : une crèche avec une place réservée libre passe avant une crèche "
        "plus proche de moins de {km}.",
        "Childcare: a crèche with a free reserved place comes before a crèche less than {km} "
        "nearer.",
    ),
    "reserved_free_one": ("1 place réservée libre", "1 reserved place free"),
    "reserved_free_many": ("{n} places réservées libres", "{n} reserved places free"),
    "reserved_none_free": (
        "Aucune place réservée libre sur {total}",
        "No reserved place free out of {total}",
    ),
    "reserved_confirmed_today": ("confirmé aujourd'hui", "confirmed today"),
    "reserved_confirmed_yesterday": ("confirmé hier", "confirmed yesterday"),
    "reserved_confirmed_days": ("confirmé il y a {n} jours", "confirmed {n} days ago"),
    "reserved_never_confirmed": ("jamais confirmé", "never confirmed"),
    "reserved_stale_suffix": (", peut-être plus à jour", ", may be out of date"),
    "reserved_referral": (
        "Demandez à une travailleuse sociale ou au CIDFF de vous orienter.",
        "Ask a social worker or the CIDFF to refer you.",
    ),
    "reserved_cov_header": (
        "Places réservées en crèche (réseau « Une place, une chance »)",
        "Reserved crèche places (the 'Une place, une chance' network)",
    ),
    "reserved_cov_intro": (
        "Places gardées pour des femmes qui reprennent un emploi, valables aujourd'hui. "
        "Rapportées à la population totale : les données de référence ne comptent pas "
        "les jeunes enfants par commune. Le partenaire qui réserve n'est jamais montré.",
        "Places kept for women returning to work, valid today. Per total population: the "
        "reference data do not count young children per commune. The partner who reserves "
        "them is never shown.",
    ),
    "reserved_cov_partners": ("Crèches partenaires", "Partner crèches"),
    "reserved_cov_total": ("Places réservées", "Reserved places"),
    "reserved_cov_free": ("Places libres", "Free places"),
    "reserved_cov_per_1000": (
        "Places pour 1 000 habitants (population totale)",
        "Places per 1,000 inhabitants (total population)",
    ),
    "reserved_cov_suggest": (
        "Communes où une crèche de plus dans le réseau aiderait le plus (à moins de {r} km, "
        "parmi les communes qui ont déjà une crèche non partenaire)",
        "Communes where one more crèche in the network would help most (within {r} km, among "
        "communes that already have a crèche outside the network)",
    ),
    "reserved_cov_dl": (
        "Places réservées par département (CSV)",
        "Reserved places by département (CSV)",
    ),
    "reserved_cov_dl_sites": (
        "Communes proposées pour le réseau (CSV)",
        "Communes proposed for the network (CSV)",
    ),
    "reserved_filter": ("Avec une place réservée libre", "With a free reserved place"),
    "reserved_filter_help": (
        "Crèches qui gardent des places pour des femmes qui reprennent un emploi, "
        "avec au moins une place libre aujourd'hui.",
        "Crèches keeping places for women returning to work, with at least one free today.",
    ),
}

#: Labels of data·inclusion codes the UI shows: vocabulary -> code -> (French, English).
VOCABULARIES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "publics": {
        "tous-publics": ("Tous publics", "Everyone"),
        "femmes": ("Femmes", "Women"),
        "familles": ("Familles", "Families"),
        "jeunes": ("Jeunes", "Young people"),
        "demandeurs-emploi": ("Demandeurs d'emploi", "Job seekers"),
        "beneficiaires-des-minimas-sociaux": (
            "Bénéficiaires des minima sociaux",
            "People on welfare benefits",
        ),
        "personnes-en-situation-de-handicap": (
            "Personnes en situation de handicap",
            "People with disabilities",
        ),
        "personnes-en-situation-durgence": (
            "Personnes en situation d'urgence",
            "People in an emergency",
        ),
        "personnes-exilees": ("Personnes exilées", "Exiles, refugees"),
        "seniors": ("Seniors", "Older people"),
        "etudiants": ("Étudiants", "Students"),
        "actifs": ("Actifs", "Working people"),
    },
    "frais": {
        "gratuit": ("Gratuit", "Free"),
        "gratuit-sous-conditions": ("Gratuit sous conditions", "Free under conditions"),
        "payant": ("Payant", "Paid"),
        "adhesion": ("Adhésion", "Membership"),
        "pass-numerique": ("Pass numérique", "Digital pass"),
    },
    "modes_accueil": {
        ReceptionMode.EN_PRESENTIEL.value: ("Sur place", "In person"),
        ReceptionMode.A_DISTANCE.value: ("À distance", "Remote"),
    },
}

#: Publics offered in the search form, in this order.
PUBLICS_CHOICES: Final[tuple[str, ...]] = (
    "femmes",
    "jeunes",
    "familles",
    "demandeurs-emploi",
    "beneficiaires-des-minimas-sociaux",
    "personnes-en-situation-de-handicap",
    "personnes-en-situation-durgence",
    "personnes-exilees",
)


def parse_lang(value: object) -> Lang:
    """``"en"`` for English, ``"fr"`` for anything else (French is the default).

    Examples
    --------
    >>> parse_lang("en"), parse_lang("de"), parse_lang(None)
    ('en', 'fr', 'fr')
    """
    return "en" if value == "en" else "fr"


def t(key: str, lang: str = "fr", **values: object) -> str:
    """The string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``.

    An unknown key raises ``KeyError`` at once (a typo must fail in tests, not
    show a blank to a user).  Values are inserted as given: the caller escapes
    them for where the text goes.
    """
    fr, en = STRINGS[key]
    text = en if lang == "en" else fr
    return text.format(**values) if values else text


def format_number(x: float, *, digits: int | None = 0, lang: str = "fr") -> str:
    """The one number formatter: ``1 623 111`` / ``3,14`` in French, ``1,623,111`` / ``3.14`` in English.

    Parameters
    ----------
    x : float
    digits : int or None, keyword-only
        Decimals; None means three significant digits below 100 (legends:
        ``2,5``, ``12``) and whole numbers above.
    lang : {"fr", "en"}, keyword-only
        French groups thousands with a narrow no-break space.

    Examples
    --------
    >>> format_number(1234.5, digits=1, lang="en"), format_number(1234.5, digits=1)
    ('1,234.5', '1\u202f234,5')
    >>> format_number(2.5, digits=None), format_number(20.0, digits=None, lang="en")
    ('2,5', '20')
    """
    if digits is None:
        digits = -1 if abs(x) < 100 else 0
    text = f"{x:.3g}" if digits < 0 else f"{x:,.{digits}f}"
    if lang == "en":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def format_km(km: float, lang: str = "fr") -> str:
    """A distance for people: one decimal under 10 km, whole km above.

    Examples
    --------
    >>> format_km(1.234, "fr"), format_km(1.234, "en"), format_km(23.6, "fr")
    ('1,2 km', '1.2 km', '24 km')
    >>> format_km(0.04, "fr"), format_km(9.96, "en"), format_km(1500.2, "fr")
    ('0,0 km', '10 km', '1\u202f500 km')
    """
    return format_number(km, digits=1 if round(km, 1) < 10 else 0, lang=lang) + " km"


def vocab_label(vocabulary: str, code: str, lang: str = "fr") -> str:
    """Label of a data·inclusion ``code`` (unknown codes are shown as they are)."""
    pair = VOCABULARIES.get(vocabulary, {}).get(code)
    if pair is None:
        return code
    return pair[1] if lang == "en" else pair[0]
