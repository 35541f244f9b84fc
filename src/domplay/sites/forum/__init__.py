"""The built-in `forum` site (served at `/forum`)."""

from domplay.sites.forum.site import ForumSite

__all__ = ["ForumSite"]
