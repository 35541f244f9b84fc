"""Keep a browser context inside an origin allowlist.

Two layers, because each alone has holes:

1. A per-context proxy that does not exist (`127.0.0.1:<closed port>`), bypassed only
   for the allowed origins. Chromium applies it to every network request, including
   redirect hops, iframes, popups and websockets, so nothing outside the allowlist leaves
   the machine. (Playwright's `route` does not see redirect hops.)
2. `context.route` on every http(s) URL outside the allowlist: aborts it before the proxy
   would, and records the URL so the agent is told *why* its action failed.

Also: service workers blocked, downloads refused, popup windows closed, and
`target=_blank` links opened in the same tab (the agent has one tab). Non-http(s)
navigations (file:, data:, javascript:) are refused by `allows()` before `goto`, and
Chromium itself refuses them when a page initiates them.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from domplay.errors import ConfigError

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(origin: str) -> str:
    """`scheme://host:port` in lower case with the default port made explicit."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(f"origin {origin!r} is not an http(s) origin such as http://127.0.0.1:8000")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def _closed_port() -> socket.socket:
    """A loopback socket bound but never listening: connections to it are refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


class OriginGuard:
    """The allowlist of one browser context, and the URLs it blocked since last asked."""

    def __init__(self, origins: Iterable[str]):
        self.origins: frozenset[str] = frozenset(normalize_origin(o) for o in origins)
        if not self.origins:
            raise ConfigError("the origin allowlist is empty; give at least the start URL's origin")
        self.blocked: list[str] = []
        self.popups_closed = 0
        self._dead = _closed_port()
        alts = []
        for o in sorted(self.origins):
            scheme, hostport = o.split("://")
            host, port = hostport.rsplit(":", 1)
            forms = [re.escape(f"{scheme}://{host}:{port}")]
            if int(port) == DEFAULT_PORTS[scheme]:
                forms.append(re.escape(f"{scheme}://{host}"))
            alts += forms
        # Any http(s)/ws(s) URL that does not start with an allowed origin.
        self.outside = re.compile(rf"^(?!(?:{'|'.join(alts)})(?:[/?#]|$))(?:https?|wss?)://", re.IGNORECASE)

    def allows(self, url: str) -> bool:
        """True if `url` is an http(s) URL on an allowed origin."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return False
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            return False
        return f"{parts.scheme}://{parts.hostname.lower()}:{port}" in self.origins

    def context_options(self) -> dict:
        """Keyword arguments for `browser.new_context`."""
        bypass = ",".join(o.split("://", 1)[1] for o in sorted(self.origins))
        return {
            "proxy": {"server": f"http://127.0.0.1:{self._dead.getsockname()[1]}", "bypass": bypass},
            "service_workers": "block",
            "accept_downloads": False,
        }

    def install(self, context, main_page) -> None:
        """Abort requests outside the allowlist, close popups, keep `_blank` links in the tab."""
        context.route(self.outside, self._abort)
        context.route_web_socket(self.outside, self._close_socket)
        context.on("page", lambda page: self._popup(page, main_page))
        context.add_init_script(script=SAME_TAB_JS)

    def take(self) -> tuple[list[str], int]:
        """URLs blocked and popups closed since the last call; resets both."""
        blocked, popups = self.blocked, self.popups_closed
        self.blocked, self.popups_closed = [], 0
        return blocked, popups

    def close(self) -> None:
        self._dead.close()

    # -- handlers (run by Playwright while the env waits on the browser) ---------------------
    def _abort(self, route) -> None:
        self.blocked.append(route.request.url)
        route.abort("blockedbyclient")

    def _close_socket(self, ws) -> None:
        self.blocked.append(ws.url)
        ws.close()

    def _popup(self, page, main_page) -> None:
        if page is not main_page:
            self.popups_closed += 1
            page.close()


SAME_TAB_JS = """
document.addEventListener("click", (ev) => {
  const a = ev.target instanceof Element ? ev.target.closest("a[target], area[target]") : null;
  if (a !== null && a.target !== "_self") a.target = "_self";
}, true);
"""
"""Open `target=...` links in the same tab: the agent has one tab and popups are closed."""
