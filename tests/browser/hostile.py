"""Hostile strings: what imported records and user inputs may hold.

Each string tries to run script, load something from elsewhere, break out of
an HTML attribute, a JavaScript string or template literal, a Jinja2
template, a markdown or LaTeX link, or to hide or reorder text.  Every
payload that could run sets ``window.__pwned`` (the canary the browser tests
read in the page and in every frame) or opens a dialog (counted).  Template
payloads compute products whose results (:data:`TEMPLATE_RESULTS`) must never
appear in what the browser shows.  Hosts under ``evil.example`` must never be
contacted.
"""

from __future__ import annotations

__all__ = ["CANARY", "EVIL_HOST", "PAYLOADS", "TEMPLATE_RESULTS", "TEXT_SENTINELS"]

#: The JavaScript global a payload sets when it runs.
CANARY = "__pwned"
#: A host no page may ever contact (RFC 2606 reserved name).
EVIL_HOST = "evil.example"

_RUN = "window.__pwned=1"

PAYLOADS: list[str] = [
    # --- HTML that runs script when parsed as markup
    f"<script>{_RUN};alert(1)</script>",
    f'<img src=x onerror="{_RUN};alert(1)">',
    f"<img src=x onerror={_RUN}>",
    f'<svg onload="{_RUN}">',
    f"<svg><script>{_RUN}</script></svg>",
    '<iframe src="javascript:parent.__pwned=1"></iframe>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    f"<body onload={_RUN}>",
    f'<details open ontoggle="{_RUN}">x</details>',
    f'<a href="javascript:{_RUN}">clic</a>',
    f'"><script>{_RUN}</script>',
    f"'><img src=x onerror={_RUN}>",
    f"</textarea><img src=x onerror={_RUN}>",
    f"</title><img src=x onerror={_RUN}>",
    f"</script><script>{_RUN}</script>",
    f"</style><script>{_RUN}</script>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={_RUN}>",
    f'<noscript><p title="</noscript><img src=x onerror={_RUN}>">',
    f"<input autofocus onfocus={_RUN}>",
    f'<video><source onerror="{_RUN}"></video>',
    f'<object data="javascript:{_RUN}"></object>',
    f'<div style="background:url(javascript:{_RUN})">x</div>',
    f'<a href="tel:3919" onclick="{_RUN}">3919</a>',
    f'<form action="javascript:{_RUN}"><button>Envoyer</button></form>',
    f'<meta http-equiv="refresh" content="0;url=javascript:{_RUN}">',
    f'<base href="//{EVIL_HOST}/">',
    f"<link rel=stylesheet href=//{EVIL_HOST}/x.css>",
    f"<style>@import 'http://{EVIL_HOST}/x.css';</style>",
    f'<img src="https://{EVIL_HOST}/pixel.gif">',
    f"<!-- <img src=x onerror={_RUN}> ",
    f"]]><script>{_RUN}</script>",
    f'"}}]}}</script><script>{_RUN}</script>',
    # --- JavaScript string and template-literal breakouts (folium tooltips)
    f"';{_RUN};//",
    f'";{_RUN};//',
    f'\\";{_RUN};//',
    f"`);{_RUN};(`",
    f"</div>`);{_RUN};//",
    "${window.__pwned=1}",
    "`+(window.__pwned=1)+`",
    "${alert(1)}",
    f"\u2028{_RUN}\u2029",
    '"-alert(1)-"',
    # --- template syntax (folium renders through Jinja2)
    "{{7*7007}}",
    "{{ 7*7117 }}",
    "{% for i in [1,2,3] %}tpl{{i}}{% endfor %}",
    "{{ ''.__class__.__mro__ }}",
    "{# commentaire #}",
    "{% raw %}",
    "{{",
    "#{7*7227}",
    "<%= 7*7337 %>",
    "{{constructor.constructor('window.__pwned=1')()}}",
    "{0.__class__} {nom} %s%n",
    # --- markdown, LaTeX and link tricks
    f"[clic](javascript:{_RUN})",
    f'![x](x" onerror="{_RUN})',
    "[a](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0xPC9zY3JpcHQ+)",
    f"<https://{EVIL_HOST}/autolien>",
    f"$\\href{{javascript:{_RUN}}}{{x}}$",
    ":red[rouge] :material/warning: **gras** # Titre",
    f"javascript:{_RUN}",
    f"JaVaScRiPt:{_RUN}",
    f"java\tscript:{_RUN}",
    f"data:text/html,<script>{_RUN}</script>",
    # --- encodings a later decoding step could turn into markup
    f"&lt;img src=x onerror={_RUN}&gt;",
    f"&#60;script&#62;{_RUN}&#60;/script&#62;",
    f"%3Cscript%3E{_RUN}%3C/script%3E",
    f"＜script＞{_RUN}＜/script＞",  # fullwidth: dangerous only after NFKC
    # --- Unicode tricks, control characters, sizes
    "Crèche \u202eeénnod\u202c fin",
    "Cr\u200bè\u200dche\ufeff \u2066isolé\u2069",
    f"abc\x00<script>{_RUN}</script>",
    f"x\r\nSet-Cookie: pwned=1\r\n\r\n<script>{_RUN}</script>",
    "A" * 5000 + f"<img src=x onerror={_RUN}>",
    "👩‍👧 Z̴̡͈a̷l̶g̸o̵ 🏳️‍🌈 مرحبا עברית",
    "раураl.fr",  # Cyrillic homoglyphs
    # --- data that looks like structure
    '{"__proto__": {"polluted": 1}}',
    "__proto__",
    f'=HYPERLINK("https://{EVIL_HOST}","x")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    f"Mo-Fr 09:00-12:00; <script>{_RUN}</script>",
]

#: What a template engine would print for the template payloads: none of
#: these may appear in the page or in a map frame.
TEMPLATE_RESULTS: tuple[str, ...] = ("49049", "49819", "50589", "51359", "tpl1tpl2")

#: Payloads whose literal text must be visible somewhere in the page: proof
#: that hostile strings are shown as text, not silently dropped.
TEXT_SENTINELS: tuple[str, ...] = (
    "<script>window.__pwned=1;alert(1)</script>",
    "{{7*7007}}",
    "${window.__pwned=1}",
)

assert len(PAYLOADS) >= 50, len(PAYLOADS)
assert len(set(PAYLOADS)) == len(PAYLOADS)
