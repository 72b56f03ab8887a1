"""A client of Streamlit's own websocket protocol, without a browser: what the load test's protocol sessions
(``harness.protocol_session``) speak to the app, and what tests/test_load_protocol.py checks against a throw-away app.

    c = StreamlitClient(port, "", timeout_s=30)       # "" = the home page; else a page's URL path
    await c.connect()
    run = await c.rerun()                             # a Run: its deltas' images, metrics, alerts, problems
    wid, slider = c.find("slider", "mode")
    c.set_state(wid, double_array_value=...)
    await c.rerun(slider.fragment_id)
    await c.close()

Loopback only; asyncio streams and the ``websockets`` package, Streamlit's protobuf messages.
"""
from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass, field

# ------------------------------------------------------------------------------------- protocol clients
#
# Streamlit's wire protocol as the page speaks it (streamlit 1.67, Starlette server; checked against
# web/server/starlette/starlette_websocket.py and starlette_routes.py and the frontend bundle's connection manager):
# - the XSRF cookie ``_streamlit_xsrf`` comes with /_stcore/health; the socket's subprotocols are
#   ``["streamlit", <that cookie's value>]`` and the PUT/DELETE of uploads carry it as ``X-Xsrftoken``;
# - the first rerun names the page by its URL path (``page_name``); later ones by ``page_script_hash`` (from the
#   ``navigation`` message), with every widget state the page holds; a widget inside an ``st.fragment`` reruns with
#   its delta's ``fragment_id``;
# - a message whose hash the client lists in ``cached_message_hashes`` comes back as a ``ref_hash``.

XSRF_COOKIE = "_streamlit_xsrf"
WIDGET_KEY = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")  # ids of keyed widgets: $$ID-<hash>-<user key>


class ProtocolError(Exception):
    """The session cannot go on: the socket closed or the server refused a request."""


async def http(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"",
               timeout_s: float = 30.0) -> tuple[int, dict[str, list[str]], bytes]:
    """One HTTP/1.1 request to 127.0.0.1:``port`` on a connection of its own (a browser would keep a few open):
    (status, headers, body). Plain asyncio streams: no threads, no HTTP library."""
    async def go():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
            if body or method in ("PUT", "POST"):
                head.append(f"Content-Length: {len(body)}")
            head += [f"{k}: {v}" for k, v in (headers or {}).items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            raw = await reader.read()  # to the end: the server closes
        finally:
            writer.close()
        top, _, payload = raw.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        hdrs: dict[str, list[str]] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        return int(lines[0].split()[1]), hdrs, payload
    return await asyncio.wait_for(go(), timeout_s)


@dataclass
class Widget:
    kind: str  # the element's type: slider, button, button_group, checkbox, file_uploader, bidi_component, ...
    proto: object  # that element's protobuf (e.g. streamlit.proto.Slider)
    fragment_id: str


@dataclass
class Run:
    """What one script run sent: the parts the checks and the next interaction need."""
    id: str = ""
    ms: float | None = None
    status: int | None = None
    widgets: dict[str, Widget] = field(default_factory=dict)
    alerts: list[tuple[int, str]] = field(default_factory=list)  # (Alert.Format, body)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (error kind, detail)
    metrics: list[str] = field(default_factory=list)  # labels of st.metric
    images: list[str] = field(default_factory=list)  # image URLs (/media/...)

    def add(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind is None:
            return
        proto = getattr(el, kind)
        if kind == "exception":
            self.problems.append(("exception", f"{proto.type}: {proto.message}"))
        elif kind == "alert":
            self.alerts.append((proto.format, proto.body))
        elif kind == "metric":
            self.metrics.append(proto.label)
        elif kind == "imgs":
            self.images += [img.url for img in proto.imgs]
        elif kind in ("markdown", "text", "code") and "Traceback (most recent call last)" in getattr(proto, "body", ""):
            self.problems.append(("traceback", proto.body[:160]))
        wid = getattr(proto, "id", "")
        if wid:  # widgets (and a few other elements) carry their id
            self.widgets[wid] = Widget(kind, proto, delta.fragment_id)


class StreamlitClient:
    """One browser tab's Streamlit session over the wire: a websocket, the widget states, the message cache."""

    def __init__(self, port: int, page: str, timeout_s: float):
        self.port, self.page, self.timeout_s = port, page, timeout_s
        self.base = f"http://127.0.0.1:{port}"
        self.page_hash = ""
        self.session_id = ""
        self.xsrf = ""
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.widgets: dict[str, Widget] = {}  # the widgets of the page as last drawn
        self.states: dict[str, object] = {}  # WidgetState protos the page holds (what the user set)
        self.cache: dict[str, object] = {}  # cacheable ForwardMsgs by hash
        self.refs = 0  # messages that came as a ref_hash (served from that cache)
        self.seen_runs: set[str] = set()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None
        self.closed = ""

    # -- connection

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        status, headers, _ = await http(self.port, "GET", "/_stcore/health", timeout_s=self.timeout_s)
        # Every cookie is kept, as a browser would: behind nginx (harness/proxy.py) one of them keeps the session on its replica.
        self.cookies = dict(c.split(";")[0].split("=", 1) for c in headers.get("set-cookie", []) if "=" in c)
        self.xsrf = self.cookies.get(XSRF_COOKIE, "")
        if status != 200 or not self.xsrf:
            raise ProtocolError(f"/_stcore/health answered {status} without an XSRF cookie")
        await http(self.port, "GET", "/_stcore/host-config", headers=self.cookie_header(), timeout_s=self.timeout_s)
        self.ws = await connect(f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit", self.xsrf],
                                additional_headers={**self.cookie_header(), "Origin": self.base},
                                max_size=None, open_timeout=self.timeout_s)
        self.reader = asyncio.create_task(self._read())

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                if msg.WhichOneof("type") == "ref_hash":  # "you have this one": the cached message, with new metadata
                    cached = self.cache.get(msg.ref_hash)
                    if cached is None:
                        self.inbox.put_nowait(("cache miss", f"ref_hash {msg.ref_hash} not held"))
                        continue
                    full = ForwardMsg()
                    full.CopyFrom(cached)
                    full.metadata.CopyFrom(msg.metadata)
                    msg = full
                    self.refs += 1
                elif msg.metadata.cacheable and msg.hash:
                    self.cache[msg.hash] = msg
                self.inbox.put_nowait(msg)
        except Exception as e:  # noqa: BLE001 - websockets' ConnectionClosed and the like: the session is over
            self.closed = f"{type(e).__name__}: {e}"
        finally:
            self.closed = self.closed or "the socket closed"
            self.inbox.put_nowait(None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 10)

    async def _next(self, deadline: float):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        msg = await asyncio.wait_for(self.inbox.get(), left)
        if msg is None:
            self.inbox.put_nowait(None)  # stays closed for whoever asks next
            raise ProtocolError(f"connection closed ({self.closed})")
        return msg

    async def send(self, **fields) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if self.closed:
            raise ProtocolError(f"connection closed ({self.closed})")
        await self.ws.send(BackMsg(**fields).SerializeToString())

    # -- script runs

    async def rerun(self, fragment_id: str = "") -> Run:
        """Send a rerun with the page's widget states and read up to its script_finished.

        Raises TimeoutError when no script_finished comes within the timeout, ProtocolError when the socket closes.
        """
        from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        cs = ClientState(query_string="", page_script_hash=self.page_hash, page_name="" if self.page_hash else self.page,
                         fragment_id=fragment_id, cached_message_hashes=sorted(self.cache),
                         context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US", url=f"{self.base}/{self.page}",
                                                  is_embedded=False, color_scheme="light"))
        cs.widget_states.widgets.extend(self.states.values())
        t0 = time.perf_counter()
        await self.send(rerun_script=cs)
        run, deadline = Run(), t0 + self.timeout_s
        while True:
            msg = await self._next(deadline)
            if isinstance(msg, tuple):
                run.problems.append(msg)
                continue
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                rid = msg.metadata.run.script_run_id
                if rid in self.seen_runs:
                    continue
                self.seen_runs.add(rid)
                run.id = rid
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif not run.id:
                continue  # the tail of an earlier run (e.g. one that timed out)
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "delta":
                run.add(msg.delta)
            elif kind == "page_not_found":
                run.problems.append(("page not found", msg.page_not_found.page_name))
            elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
                run.problems.append(("compile error", msg.session_event.script_compilation_exception.message))
            elif kind == "script_finished" and msg.metadata.run.script_run_id == run.id:
                run.ms, run.status = (time.perf_counter() - t0) * 1e3, msg.script_finished
                if run.status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.problems.append(("run cut short", "finished early for a rerun nobody asked for"))
                break
        if fragment_id:
            self.widgets.update(run.widgets)
        else:  # the page forgets the states of widgets that are gone (e.g. the canvas after Clear)
            self.widgets = run.widgets
            self.states = {k: v for k, v in self.states.items() if k in self.widgets}
        return run

    def find(self, kind: str, key_prefix: str) -> tuple[str, Widget] | None:
        """The first widget of ``kind`` whose user key starts with ``key_prefix``, in page order."""
        for wid, w in self.widgets.items():
            m = WIDGET_KEY.match(wid)
            if w.kind == kind and m and m.group(1).startswith(key_prefix):
                return wid, w
        return None

    def set_state(self, wid: str, **value) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        self.states[wid] = WidgetState(id=wid, **value)

    async def fetch_media(self, urls: list[str]) -> tuple[int, list[str]]:
        """GET a run's images as the page does: (how many were fetched, the failures). ``data:`` URLs came inline."""
        paths = [u for u in dict.fromkeys(urls) if u.startswith("/")]

        async def one(path):
            status, _, _ = await http(self.port, "GET", path, headers=self.cookie_header(), timeout_s=self.timeout_s)
            return None if status == 200 else f"{status} {path}"
        return len(paths), [f for f in await asyncio.gather(*[one(p) for p in paths]) if f]

    # -- uploads

    async def upload(self, name: str, data: bytes, mime: str = "image/png"):
        """Ask for an upload URL over the socket, PUT the file there; returns its UploadedFileInfo."""
        from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo

        rid = uuid.uuid4().hex
        await self.send(file_urls_request=FileURLsRequest(request_id=rid, file_names=[name], session_id=self.session_id))
        deadline = time.perf_counter() + self.timeout_s
        while True:  # between runs the socket carries only this answer (and status messages)
            msg = await self._next(deadline)
            if not isinstance(msg, tuple) and msg.WhichOneof("type") == "file_urls_response" and msg.file_urls_response.response_id == rid:
                break
        resp = msg.file_urls_response
        if resp.error_msg or not resp.file_urls:
            raise ProtocolError(f"file_urls_request refused: {resp.error_msg}")
        urls = resp.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status, _, text = await http(self.port, "PUT", urls.upload_url, body=body, timeout_s=self.timeout_s, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self.xsrf, "Origin": self.base,
            **self.cookie_header()})
        if status not in (200, 204):
            raise ProtocolError(f"upload PUT answered {status}: {text[:120]!r}")
        return UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls)

    async def delete_upload(self, info) -> None:
        status, _, _ = await http(self.port, "DELETE", info.file_urls.delete_url, timeout_s=self.timeout_s,
                                  headers={"X-Xsrftoken": self.xsrf, "Origin": self.base, **self.cookie_header()})
        if status not in (200, 204):
            raise ProtocolError(f"upload DELETE answered {status}")
