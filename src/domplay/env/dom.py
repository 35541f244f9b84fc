"""DomEnv: the web without JavaScript — HTTP, HTML parsing, and forms done as a browser would.

Built-in sites are called in-process (no socket: `InProcessTransport`), other sites over
HTTP. Links are followed, forms are serialized and submitted per the HTML spec (GET/POST,
text, select, checkbox, radio, textarea, hidden fields, submitter name/value, implicit
submission on Enter, constraint validation of `required`/`pattern`/`type=email`/`min`/
`max`/`minlength`), redirects are followed hop by hop inside the origin allowlist, and
cookies persist for the episode. Pages that need JavaScript are refused with a clear error.
"""

from __future__ import annotations

import codecs
import operator
import re
from typing import Any, Protocol
from urllib.parse import urldefrag, urljoin

import httpx
from pydantic import Field
from selectolax.lexbor import LexborHTMLParser, LexborNode

from domplay.env.base import CONTENT_ERRORS, EnvConfig, WebEnv, origin_of
from domplay.env.observation import Element, stamp_tree
from domplay.env.transport import InProcessTransport
from domplay.errors import ActionError, ConfigError, NavigationError
from domplay.sites.app import STATE_TOKEN_HEADER
from domplay.sites.base import NS_COOKIE

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FIELD_TAGS = ("input", "select", "textarea", "button")
_NEWLINES = re.compile(r"[\t\n\r]")


class InProcessSites(Protocol):
    """Sites DomEnv can call without a socket: `SitesApp`, or any ASGI app with state."""

    @property
    def asgi(self) -> Any: ...

    def state_json(self, ns: str) -> dict[str, Any]: ...

    def drop(self, ns: str) -> None: ...


class DomEnvConfig(EnvConfig):
    """DomEnv settings (on top of EnvConfig)."""

    request_timeout_s: float = Field(10.0, gt=0, description="timeout of one HTTP request to an external site")
    max_redirects: int = Field(10, ge=0)
    state_token: str | None = Field(
        None, description="token for `/_domplay/state` when the built-in sites run in another process"
    )
    user_agent: str = "domplay-domenv/0.1"


class DomEnv(WebEnv):
    """A JavaScript-free browser over HTTP; see the module docstring.

    `DomEnv(sites=SitesApp(seed))` serves built-in sites in-process at `config.base_url`;
    without `sites`, every request goes over the network (inside the allowlist).
    """

    supports_js = False
    content_errors = (*CONTENT_ERRORS, httpx.InvalidURL)
    """httpx refuses some URLs a page or a reply can hold (non-printable characters) with InvalidURL."""

    def __init__(
        self, config: DomEnvConfig = DomEnvConfig(), sites: InProcessSites | None = None, render_mode: str | None = None
    ):
        super().__init__(config, render_mode)
        self.config: DomEnvConfig = config
        self.sites = sites
        self._local = InProcessTransport(sites.asgi) if sites is not None else None
        self._local_origin = origin_of(config.base_url)
        self._local_cookies: dict[str, str] = {}
        self._remote = httpx.HTTPTransport()
        self._client: httpx.Client | None = None
        self._history: list[str] = []
        self._url = ""
        self._raw_html = "<html></html>"
        self._doc: LexborHTMLParser = LexborHTMLParser(self._raw_html)
        self._nodes: dict[int, LexborNode] = {}

    # -- hooks ---------------------------------------------------------------------------
    def _begin(self, ns: str, url: str) -> None:
        if self._client is not None:
            self._client.close()
        self._client = httpx.Client(
            transport=self._remote,
            follow_redirects=False,
            timeout=self.config.request_timeout_s,
            headers={"user-agent": self.config.user_agent},
        )
        self._client.cookies.set(NS_COOKIE, ns, domain=httpx.URL(self.config.base_url).host, path="/")
        self._local_cookies = {NS_COOKIE: ns}
        self._history = []
        if not self.allowed(url):
            raise ConfigError(
                f"start URL {url!r} is outside the allowed origins; add its origin to EnvConfig.allowed_origins"
            )
        try:
            self._navigate("GET", url)
        except ActionError as exc:
            raise NavigationError(f"cannot open start URL {url}: {exc}") from None

    def _tree(self) -> tuple[LexborHTMLParser, str]:
        return self._doc, self._url

    def _click(self, el: Element) -> None:
        node = self._node(el)
        tag = node.tag
        itype = (node.attributes.get("type") or "").lower()
        if tag == "label":
            control = self._labelled_control(node)
            if control is not None:
                return self._click_node(control)
            return None
        return self._click_node(node, tag, itype)

    def _click_node(self, node: LexborNode, tag: str | None = None, itype: str | None = None) -> None:
        tag = tag or node.tag
        itype = itype if itype is not None else (node.attributes.get("type") or "").lower()
        if tag == "a" and node.attributes.get("href") is not None:
            self._follow_link(node.attributes.get("href") or "")
        elif tag == "input" and itype == "checkbox":
            _set_flag(node, "checked", "checked" not in node.attributes)
        elif tag == "input" and itype == "radio":
            for other in self._radio_group(node):
                _set_flag(other, "checked", False)
            _set_flag(node, "checked", True)
        elif (tag == "button" and itype in ("", "submit")) or (tag == "input" and itype in ("submit", "image")):
            form = self._form_of(node)
            if form is not None:
                self._submit(form, submitter=node)
        elif (tag == "button" and itype == "reset") or (tag == "input" and itype == "reset"):
            form = self._form_of(node)
            if form is not None:
                self._reset_form(form)
        elif tag == "summary" and node.parent is not None and node.parent.tag == "details":
            _set_flag(node.parent, "open", "open" not in node.parent.attributes)
        # Anything else (text, a button type=button) does nothing without JavaScript.

    def _fill(self, el: Element, text: str) -> None:
        node = self._node(el)
        node.attrs["value"] = text

    def _select(self, el: Element, option: str) -> None:
        node = self._node(el)
        for opt in node.css("option"):
            _set_flag(opt, "selected", " ".join(opt.text().split()) == option)

    def _press(self, el: Element, key: str) -> None:
        if key != "Enter":
            return  # other keys change nothing without JavaScript
        node = self._node(el)
        if node.tag == "input":
            form = self._form_of(node)
            if form is not None:
                self._submit(form, submitter=_default_button(form))
        elif node.tag in ("a", "button"):
            self._click_node(node)

    def _goto(self, url: str) -> None:
        self._navigate("GET", url)

    def _back(self) -> None:
        if len(self._history) < 2:
            raise ActionError("there is no previous page to go back to")
        self._history.pop()
        previous = self._history.pop()
        self._navigate("GET", previous)

    def _backend_state(self) -> dict[str, Any]:
        if self.sites is not None:
            return self.sites.state_json(self.ns)
        if self.config.state_token is None:
            return {}
        assert self._client is not None
        resp = self._client.get(
            urljoin(self.config.base_url, "/_domplay/state"),
            params={"ns": self.ns},
            headers={STATE_TOKEN_HEADER: self.config.state_token},
        )
        if resp.status_code != 200:
            raise NavigationError(f"backend state request failed: HTTP {resp.status_code} {resp.text[:200]}")
        return resp.json()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.sites is not None and self.ns:
            self.sites.drop(self.ns)
        if self._local is not None:
            self._local.close()  # its private event loop
        self._remote.close()
        super().close()

    # -- navigation -----------------------------------------------------------------------
    def _follow_link(self, href: str) -> None:
        href = _NEWLINES.sub("", href.strip())  # as browsers do (WHATWG URL parsing)
        if href.lower().startswith("javascript:"):
            return
        url, fragment = urldefrag(self.resolve_url(href))
        if url == urldefrag(self._url)[0] and (fragment or href.startswith("#")):
            return  # same-document fragment link
        if not self.allowed(url):
            raise ActionError(f"the link leads to {url}, outside the allowed sites; it was not followed")
        self._navigate("GET", url)

    def _navigate(self, method: str, url: str, data: list[tuple[str, str]] | None = None) -> None:
        for _ in range(self.config.max_redirects + 1):
            if not self.allowed(url):
                raise ActionError(f"{url} is outside the allowed sites; the request was blocked")
            body = _form_body(data or []).encode() if method == "POST" else b""
            status, headers, content = self._request(method, url, body)
            location = headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                if status in (301, 302, 303) and method == "POST":
                    method, data = "GET", None
                continue
            ctype = headers.get("content-type", "")
            if ctype and "html" not in ctype:
                raise ActionError(
                    f"{url} is not a web page (content-type {ctype.split(';')[0]}); the page was not changed"
                )
            self._load(url, content.decode(_charset(ctype), errors="replace"))
            return
        raise ActionError(f"too many redirects (more than {self.config.max_redirects}) from {url}")

    def _request(self, method: str, url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange: built-in sites in-process, everything else over the network."""
        headers = {"user-agent": self.config.user_agent}
        if method == "POST":
            headers["content-type"] = "application/x-www-form-urlencoded"
        if self._local is not None and origin_of(url) == self._local_origin:
            parts = httpx.URL(url)
            raw = [(k.encode(), v.encode()) for k, v in headers.items()]
            raw.append((b"host", parts.netloc))
            if self._local_cookies:
                raw.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self._local_cookies.items()).encode()))
            status, out, content = self._local.call(
                method, parts.scheme, parts.host, parts.port, parts.path, parts.query, raw, body
            )
            result: dict[str, str] = {}
            for key, value in out:
                k, v = key.decode("latin-1").lower(), value.decode("latin-1")
                if k == "set-cookie":
                    _store_cookie(self._local_cookies, v)
                else:
                    result[k] = v
            return status, result, content
        assert self._client is not None
        try:
            resp = self._client.request(method, url, content=body or None, headers=headers)
        except httpx.TimeoutException:
            raise ActionError(f"{url} did not answer within {self.config.request_timeout_s} s") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ActionError(f"request to {url} failed: {type(exc).__name__}") from None
        return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content

    def _load(self, url: str, html: str) -> None:
        self._raw_html = html
        self._doc = LexborHTMLParser(html)
        self._nodes = stamp_tree(self._doc)
        self._url = url
        self._history.append(url)

    # -- forms ----------------------------------------------------------------------------
    def _node(self, el: Element) -> LexborNode:
        node = self._nodes.get(el.stamp)
        if node is None:
            raise ActionError(f"element [{el.id}] is no longer on the page")
        return node

    def _form_of(self, node: LexborNode) -> LexborNode | None:
        form_id = node.attributes.get("form")
        if form_id:
            return self._by_id(form_id, "form")
        parent = node.parent
        while parent is not None and parent.tag != "form":
            parent = parent.parent
        return parent

    def _by_id(self, element_id: str, tag: str = "*") -> LexborNode | None:
        """The first `tag` element whose id is `element_id` (compared, not put in a CSS selector:
        an id is page text and may hold quotes)."""
        return next((n for n in self._doc.css(f"{tag}[id]") if n.attributes.get("id") == element_id), None)

    def _radio_group(self, node: LexborNode) -> list[LexborNode]:
        name = node.attributes.get("name")
        if not name:
            return [node]
        scope = self._form_of(node) or self._doc.body
        if scope is None:
            return [node]
        return [r for r in scope.css('input[type="radio"]') if r.attributes.get("name") == name]

    def _labelled_control(self, label: LexborNode) -> LexborNode | None:
        target = label.attributes.get("for")
        if target:
            return self._by_id(target)
        return label.css_first("input, select, textarea, button")

    def _reset_form(self, form: LexborNode) -> None:
        """Restore the served values: the page is re-parsed from the HTML as it arrived.

        Simplification: this resets every form on the page, not only `form`.
        """
        del form
        self._doc = LexborHTMLParser(self._raw_html)
        self._nodes = stamp_tree(self._doc)

    def _submit(self, form: LexborNode, submitter: LexborNode | None) -> None:
        if "novalidate" not in form.attributes and (submitter is None or "formnovalidate" not in submitter.attributes):
            problem = _first_invalid(form, self._radio_group)
            if problem is not None:
                raise ActionError(f"the form was not sent: {problem}")
        data = _serialize(form, submitter)
        attrs = form.attributes
        overrides = submitter.attributes if submitter is not None else {}
        action = overrides.get("formaction") or attrs.get("action") or self._url
        method = (overrides.get("formmethod") or attrs.get("method") or "get").upper()
        url = urljoin(self._url, action)
        if method == "GET":
            query = str(httpx.QueryParams(tuple(data)))
            url = urldefrag(url)[0].split("?", 1)[0] + ("?" + query if query else "")
            self._navigate("GET", url)
        else:
            self._navigate("POST", url, data)


def _store_cookie(jar: dict[str, str], header: str) -> None:
    """Apply one Set-Cookie header to a simple name→value jar (expiry = deletion only)."""
    first, *attrs = header.split(";")
    name, _, value = first.strip().partition("=")
    expired = any(a.strip().lower().startswith("max-age=0") for a in attrs) or any(
        a.strip().lower().startswith("expires=thu, 01 jan 1970") for a in attrs
    )
    if expired:
        jar.pop(name, None)
    elif name:
        jar[name] = value.strip('"')


def _charset(content_type: str) -> str:
    """The page's declared charset when Python knows it, else UTF-8 (as browsers fall back)."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                return "utf-8"
    return "utf-8"


def _set_flag(node: LexborNode, name: str, on: bool) -> None:
    if on:
        node.attrs[name] = ""
    elif name in node.attributes:
        del node.attrs[name]


def _controls(form: LexborNode) -> list[LexborNode]:
    return list(form.css("input, select, textarea, button"))


def _default_button(form: LexborNode) -> LexborNode | None:
    for n in form.css("button, input"):
        itype = (n.attributes.get("type") or ("submit" if n.tag == "button" else "text")).lower()
        if itype in ("submit", "image"):
            return n
    return None


def _value_of(node: LexborNode) -> str:
    if node.tag == "textarea":
        value = node.attributes.get("value")
        return value if value is not None else node.text(deep=True)
    return node.attributes.get("value") or ""


def _serialize(form: LexborNode, submitter: LexborNode | None) -> list[tuple[str, str]]:
    """The form data set (HTML spec, "constructing the entry list"), in tree order."""
    data: list[tuple[str, str]] = []
    for node in _controls(form):
        attrs = node.attributes
        name = attrs.get("name")
        if not name or "disabled" in attrs or _in_disabled_fieldset(node, form):
            continue
        tag = node.tag
        itype = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
        if tag == "button" or itype in ("submit", "image", "reset", "button"):
            if submitter is not None and node.mem_id == submitter.mem_id and itype in ("submit", "image"):
                if itype == "image":
                    data += [(f"{name}.x", "0"), (f"{name}.y", "0")]
                else:
                    data.append((name, attrs.get("value") or ""))
            continue
        if itype in ("checkbox", "radio"):
            if "checked" in attrs:
                value = attrs.get("value")
                data.append((name, value if value is not None else "on"))
        elif tag == "select":
            for opt in node.css("option"):
                if "selected" in opt.attributes and "disabled" not in opt.attributes:
                    data.append((name, _option_value(opt)))
            if not any("selected" in o.attributes for o in node.css("option")) and "multiple" not in attrs:
                first = node.css_first("option")
                if first is not None:
                    data.append((name, _option_value(first)))
        elif itype == "file":
            data.append((name, ""))
        else:
            data.append((name, _value_of(node)))
    return data


def _option_value(opt: LexborNode) -> str:
    value = opt.attributes.get("value")
    return value if value is not None else " ".join(opt.text().split())


def _in_disabled_fieldset(node: LexborNode, form: LexborNode) -> bool:
    parent = node.parent
    while parent is not None and parent.mem_id != form.mem_id:
        if parent.tag == "fieldset" and "disabled" in parent.attributes:
            return True
        parent = parent.parent
    return False


def _first_invalid(form: LexborNode, radio_group) -> str | None:
    """The first constraint-validation failure a browser would report, or None."""
    for node in _controls(form):
        attrs = node.attributes
        if "disabled" in attrs or node.tag == "button":
            continue
        itype = (attrs.get("type") or "text").lower()
        label = attrs.get("aria-label") or attrs.get("name") or attrs.get("id") or node.tag
        if itype in ("hidden", "submit", "image", "reset", "button"):
            continue
        if node.tag == "select":
            value = next(
                (_option_value(o) for o in node.css("option") if "selected" in o.attributes),
                _option_value(first) if (first := node.css_first("option")) else "",
            )
        elif itype in ("checkbox", "radio"):
            value = "on" if "checked" in attrs else ""
            if itype == "radio" and "required" in attrs:
                if not any("checked" in r.attributes for r in radio_group(node)):
                    return f"choose an option for {label!r} (required)"
                continue
        else:
            value = _value_of(node)
        if "required" in attrs and value == "":
            return f"field {label!r} is required"
        if value == "" or itype in ("checkbox", "radio") or node.tag == "select":
            continue
        if itype == "email" and not _EMAIL.match(value):
            return f"field {label!r} needs an email address, got {value!r}"
        pattern = attrs.get("pattern")
        if pattern:
            try:
                if re.fullmatch(pattern, value) is None:
                    return f"field {label!r} does not match the requested format"
            except re.error:
                pass
        minlength = attrs.get("minlength") or ""  # None for a bare `minlength` attribute
        if minlength.isdigit() and len(value) < int(minlength):
            return f"field {label!r} needs at least {minlength} characters"
        if itype == "number":
            try:
                number = float(value)
            except ValueError:
                return f"field {label!r} needs a number, got {value!r}"
            for bound, ok in (("min", operator.ge), ("max", operator.le)):
                raw = attrs.get(bound)
                if raw:
                    try:
                        if not ok(number, float(raw)):
                            return f"field {label!r} must be {'at least' if bound == 'min' else 'at most'} {raw}"
                    except ValueError:
                        pass
    return None


def _form_body(data: list[tuple[str, str]]) -> str:
    return str(httpx.QueryParams(tuple(data)))
