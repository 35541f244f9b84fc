"""The built-in `widgets` site (served at `/widgets`): pages that only work with JavaScript."""

from domplay.sites.widgets.site import WidgetsSite

__all__ = ["WidgetsSite"]
