"""The built-in `admin` site (served at `/admin`)."""

from domplay.sites.admin.site import AdminSite

__all__ = ["AdminSite"]
