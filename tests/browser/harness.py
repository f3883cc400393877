"""End-to-end harness: the real app (``streamlit run``) driven by headless Chromium.

Why the real app and a real browser: the safety rules are about what reaches
a browser (bytes on the wire, scripts that run, hosts contacted, what Back
shows).  Only a browser running the app as users get it can prove them.

This module holds the pieces (the test store, the app server, the page
recorder, the figures); ``conftest.py`` turns them into fixtures.

* :func:`start_app` runs ``streamlit run streamlit_app.py`` on a free
  localhost port, from the project folder (so ``.streamlit/config.toml``
  applies), with a fresh ``HOME`` and ``MAPAPP_DATA_DIR`` pointing to a store
  filled by :func:`build_test_store`: one record per hostile payload (in every
  text field) and one confidential shelter (:data:`SECRET`).
* :class:`Recorder` keeps every request host, dialog, page error, response
  and WebSocket frame of a page.
* :data:`FIGURES` sums what the suite measured; it is printed at the end of
  the run as a ``SAFETY:`` line, so CI's log shows it.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mapapp.schema import actors_frame
from mapapp.store import ParquetStore
from mapapp.taxonomy import ActorType, Obstacle

from . import hostile

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("MAPAPP_CHROMIUM", "/usr/bin/chromium"))
APP = Path(os.environ.get("MAPAPP_BROWSER_APP", str(ROOT / "streamlit_app.py")))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
    # Responses served through Playwright's router (test_csp.py adds the
    # proxy's headers that way) lose their address space, and Chromium's
    # Local Network Access checks would then block the app's own WebSocket.
    "--disable-features=LocalNetworkAccessChecks",
]
STARTUP_TIMEOUT_S = 90.0
#: The only hosts a page may contact: the app itself (plus the configured
#: tile server when there is one, see test_outbound_hosts.py).
ALLOWED_HOSTS_NO_TILES = frozenset({"127.0.0.1", "localhost"})

# --- the test store -------------------------------------------------------

#: Where the test records sit: half around Grenoble (38185), half around
#: Voiron (38563), a few hundred metres from each commune's representative
#: point, so that a search from each commune (50 results) shows every one.
PLACE_CODE = "38185"
PLACE_NAME = "Grenoble"
PLACE_POSTCODE = "38000"
CLUSTERS = (
    ("Grenoble", "38185", "38000", 45.1830, 5.7275),
    ("Voiron", "38563", "38500", 45.3830, 5.5855),
)
#: Results shown per search (the largest choice of the search form).
RESULTS_LIMIT = 50

#: The confidential shelter. Its street, exact point, phone, e-mail and
#: SIRET must be found in 0 bytes of what the browser receives.
SECRET = {
    "id": "test:abri-secret",
    "source": "test",
    "source_id": "abri-secret",
    "nom": "Abri Les Tilleuls (test)",
    "structure_nom": "Association Refuge (test)",
    "description": "Entrée par le 17 impasse des Glycines-Secrètes, sonner au 04 76 86 20 53.",
    "actor_type": ActorType.HEBERGEMENT.value,
    "obstacles": [o.value for o in Obstacle],
    "adresse": "17 impasse des Glycines-Secrètes",
    "complement_adresse": "Bâtiment Zéphyr",
    "code_postal": PLACE_POSTCODE,
    "code_insee": PLACE_CODE,
    "commune": PLACE_NAME,
    "latitude": 45.187654,
    "longitude": 5.723456,
    "telephone": "04 76 86 20 53",
    "courriel": "abri.glycines@exemple.fr",
    "siret": "98765432100019",
    "site_web": "https://refuge.exemple.fr",
    "confidential": True,
    "referral_phone": "",
}


def _secret_needles() -> dict[str, bytes]:
    """Byte patterns that betray the confidential record, by name."""
    lat, lon = float(SECRET["latitude"]), float(SECRET["longitude"])  # type: ignore[arg-type]
    texts = {
        "street": "Glycines",
        "street-json-escaped": "Glycines-Secr\\u00e8tes",
        "complement": "Zéphyr",
        "phone": "04 76 86 20 53",
        "phone-digits": "0476862053",
        "phone-dots": "04.76.86.20.53",
        "phone-tail": "86 20 53",
        "email": "abri.glycines",
        "siret": "98765432100019",
        "lat": "45.18765",
        "lon-trunc": "5.72345",
        "lon-round": "5.72346",
        "lat-e": "4.518765",
    }
    needles = {k: v.encode("utf-8") for k, v in texts.items()}
    needles["street-latin1"] = "Glycines-Secrètes".encode("latin-1")
    needles["street-utf16"] = "Glycines".encode("utf-16-le")
    for name, value in (("lat", lat), ("lon", lon)):
        needles[f"{name}-f64le"] = struct.pack("<d", value)
        needles[f"{name}-f64be"] = struct.pack(">d", value)
        needles[f"{name}-f32le"] = struct.pack("<f", value)
    return needles


SECRET_NEEDLES = _secret_needles()

TEXT_FIELDS = (
    "nom",
    "structure_nom",
    "description",
    "adresse",
    "complement_adresse",
    "commune",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "source_type",
    "referral_phone",
)
LIST_FIELDS = ("thematiques", "publics", "frais", "zone_eligibilite")
_TYPES = [t.value for t in ActorType if t is not ActorType.HEBERGEMENT]


def hostile_records() -> list[dict[str, Any]]:
    """One public record per hostile payload, the payload in every text field.

    Payloads alternate between the two :data:`CLUSTERS`; within a cluster the
    points sit on a small grid (about 80 m apart).
    """
    records: list[dict[str, Any]] = []
    for i, payload in enumerate(hostile.PAYLOADS):
        _name, code, postcode, lat0, lon0 = CLUSTERS[i % len(CLUSTERS)]
        k = i // len(CLUSTERS)
        rec: dict[str, Any] = {
            "id": f"test:{i:03d}",
            "source": "test",
            "source_id": f"{i:03d}",
            "structure_id": f"test-structure-{i:03d}",
            "actor_type": _TYPES[i % len(_TYPES)],
            "obstacles": [o.value for o in Obstacle],
            "code_postal": postcode,
            "code_insee": code,
            "latitude": lat0 + 0.0007 * (k % 7),
            "longitude": lon0 + 0.0007 * (k // 7),
            "date_maj": "2026-01-01",
        }
        for name in TEXT_FIELDS:
            rec[name] = payload
        # Keep a readable rank prefix on the name so failures are traceable.
        rec["nom"] = f"H{i:03d} {payload}"
        for name in LIST_FIELDS:
            rec[name] = [payload]
        records.append(rec)
    return records


assert len(hostile.PAYLOADS) + 1 <= RESULTS_LIMIT * len(CLUSTERS)


def build_test_store(data_dir: Path) -> None:
    """Write the hostile records and the confidential shelter into ``data_dir``."""
    ParquetStore(data_dir).write_actors(actors_frame([*hostile_records(), SECRET]))


# --- figures printed at the end of the run --------------------------------


@dataclass
class Figures:
    """What the browser suite measured, summed over the run."""

    payloads_tried: int = 0
    generated_strings: int = 0
    inputs_tried: int = 0
    executed: int = 0
    dialogs: int = 0
    template_evaluations: int = 0
    broken_maps: int = 0
    maps_checked: int = 0
    bytes_scanned: int = 0
    bytes_leaked: int = 0
    hosts: set[str] = field(default_factory=set)
    hosts_off_list: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"SAFETY: payloads_tried={self.payloads_tried} inputs_tried={self.inputs_tried} "
            f"generated_strings={self.generated_strings} "
            f"executed={self.executed} dialogs={self.dialogs} "
            f"template_evaluations={self.template_evaluations} "
            f"maps_checked={self.maps_checked} broken_maps={self.broken_maps} "
            f"bytes_scanned={self.bytes_scanned} bytes_leaked={self.bytes_leaked} "
            f"hosts={sorted(self.hosts)} hosts_off_list={sorted(self.hosts_off_list)}"
        )


FIGURES = Figures()


# --- the app server -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cache_dir() -> Path:
    return Path(os.environ.get("MAPAPP_CACHE_DIR") or Path.home() / ".cache" / "mapapp")


@dataclass
class AppServer:
    """A running ``streamlit run`` and where it writes."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    data_dir: Path
    home: Path
    started: float
    tiles: str

    @property
    def origin_host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_app(workdir: Path, *, tiles: str, data_dir: Path) -> AppServer:
    """Start the real app on a free port and wait until it answers its health check."""
    port = _free_port()
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    log = workdir / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "MAPAPP_"))}
    env.update(
        {
            # A fresh HOME: no personal ~/.streamlit config, and any file the
            # app writes there is visible to the no-trace test.
            "HOME": str(home),
            "MAPAPP_DATA_DIR": str(data_dir),
            "MAPAPP_CACHE_DIR": str(_cache_dir()),
            "MAPAPP_TILES": tiles,
            "PYTHONUNBUFFERED": "1",
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
    ]
    started = time.time()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    server = AppServer(url, proc, log, data_dir, home, started, tiles)
    deadline = time.time() + STARTUP_TIMEOUT_S
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"the app did not answer within {STARTUP_TIMEOUT_S} s:\n{server.log_text()}")


# --- the browser ----------------------------------------------------------


@dataclass
class Recorder:
    """Everything a page did that a safety test may want to inspect."""

    page: Any
    hosts: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)
    ws_frames: list[bytes] = field(default_factory=list)
    downloads: list[bytes] = field(default_factory=list)
    #: Hosts this test contacts on purpose (the neutral exit site): not
    #: counted among the hosts the app made the browser contact.
    expected_hosts: set[str] = field(default_factory=set)
    #: Hosts the app may make the browser contact (the tests using the tile
    #: server add its host).
    allowed_hosts: set[str] = field(default_factory=lambda: set(ALLOWED_HOSTS_NO_TILES))

    def attach(self) -> None:
        page = self.page
        page.on("request", self._on_request)
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("websocket", self._on_websocket)

    def _on_request(self, request: Any) -> None:
        self.urls.append(request.url)
        host = urlsplit(request.url).hostname
        if host:
            self.hosts.append(host)

    def _on_response(self, response: Any) -> None:
        self.responses.append(response)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    def _on_websocket(self, ws: Any) -> None:
        def keep(payload: Any) -> None:
            self.ws_frames.append(payload.encode("utf-8") if isinstance(payload, str) else payload)

        ws.on("framereceived", keep)
        ws.on("framesent", keep)

    def response_bodies(self) -> list[tuple[str, bytes]]:
        """Bodies of the responses received so far (those still available)."""
        out: list[tuple[str, bytes]] = []
        for resp in self.responses:
            try:
                out.append((resp.url, resp.body()))
            except Exception:  # redirects, evicted bodies, aborted requests
                continue
        return out


def count_hosts(rec: Recorder) -> None:
    """Add the hosts a recorded page contacted to the figures."""
    hosts = set(rec.hosts) - rec.expected_hosts
    FIGURES.hosts.update(hosts)
    FIGURES.hosts_off_list.update(h for h in hosts if h not in rec.allowed_hosts)
