"""A search reruns only the search view, not the frame around it (issue 14).

Spoken to a real ``streamlit run`` server in Streamlit's own websocket
protocol, as the browser does (AppTest always reruns the whole script, so it
cannot see this): after the page opens, pressing "Rechercher" names the
fragment that drew the form; the server runs that fragment alone (status
``FINISHED_FRAGMENT_RUN_SUCCESSFULLY``) and sends the results, without the
quick exit, the emergency numbers or the language switch, which stay on the
page as first drawn.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mapapp.commands.serve import streamlit_command
from mapapp.geo.communes import Geography
from tests._async import run_alone

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _rerun(ws: Any, widgets: dict[str, Any], states: list[tuple[str, str, Any]]) -> Any:
    """Send one rerun (widget states, the fragment a trigger sits in); what the server sent back."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    back = BackMsg()
    back.rerun_script.query_string = ""
    for key, kind, value in states:
        proto, fragment = widgets[key]
        state = back.rerun_script.widget_states.widgets.add()
        state.id = proto.id
        if kind == "string_array_value":
            state.string_array_value.data.extend(value)
        else:
            setattr(state, kind, value)
        if kind == "trigger_value" and fragment:
            back.rerun_script.fragment_id = fragment
    await ws.send(back.SerializeToString())
    widgets.clear()
    kinds: list[str] = []
    markdown: list[str] = []
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await asyncio.wait_for(ws.recv(), 120))
        what = msg.WhichOneof("type")
        if what == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            kind = element.WhichOneof("type") or ""
            kinds.append(kind)
            if kind == "markdown":
                markdown.append(element.markdown.body)
            sub = getattr(element, kind, None)
            wid = str(getattr(sub, "id", ""))
            if wid:
                key = "submit" if "FormSubmitter" in wid else wid.rsplit("-", 1)[1]
                widgets[key] = (sub, msg.delta.fragment_id)
        elif what == "script_finished":
            return msg.script_finished, kinds, markdown


async def _open_then_search(port: int) -> tuple[Any, Any]:
    import websockets
    from websockets.typing import Subprotocol

    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    async with websockets.connect(
        url, subprotocols=[Subprotocol("streamlit")], max_size=None
    ) as ws:
        widgets: dict[str, Any] = {}
        opened = await _rerun(ws, widgets, [])
        need = widgets["f_obstacles"][0].options[0].content  # childcare, as labelled
        states = [
            ("f_place", "string_value", "Grenoble"),
            ("f_obstacles", "string_array_value", [need]),
            ("submit", "trigger_value", True),
        ]
        searched = await _rerun(ws, widgets, states)
        return opened, (*searched, "edit_search" in widgets)


def test_a_search_reruns_the_search_view_alone(tmp_path: Path, geo: Geography) -> None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from tests.conftest import _cache_dir

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "MAPAPP_"))}
    env |= {
        "HOME": str(tmp_path),
        "MAPAPP_DATA_DIR": str(tmp_path / "data"),  # empty: the demonstration data
        "MAPAPP_CACHE_DIR": str(_cache_dir()),
        "MAPAPP_TILES": "none",
    }
    proc = subprocess.Popen(
        streamlit_command(host="127.0.0.1", port=port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        opened, searched = run_alone(lambda: _open_then_search(port))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    status, kinds, markdown = opened
    assert status == ForwardMsg.FINISHED_SUCCESSFULLY
    assert "html" in kinds and any("tel:3919" in m for m in markdown)  # the frame, drawn once
    status, kinds, markdown, summary = searched
    assert status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY, "the whole page reran"
    assert summary, "no results summary after the search"
    assert any(m.startswith("**1\\.") for m in markdown), "no result card"
    assert "html" not in kinds, "the quick exit was sent again"
    assert not any("tel:3919" in m for m in markdown), "the emergency numbers were sent again"
