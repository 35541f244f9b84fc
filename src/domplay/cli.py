"""The `domplay` command line."""

from __future__ import annotations

import click

from domplay import __version__


@click.group()
@click.version_option(__version__, prog_name="domplay")
def main() -> None:
    """domplay: self-improving LLM web agents, verified against the DOM."""


@main.group()
def sites() -> None:
    """The built-in sites (shop, forum, admin, widgets)."""


@sites.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the generated content.")
def sites_serve(host: str, port: int, seed: int) -> None:
    """Serve all built-in sites on HOST:PORT until interrupted."""
    from domplay.sites.server import serve_forever

    serve_forever(seed=seed, host=host, port=port)


@sites.command("list")
def sites_list() -> None:
    """List the built-in sites."""
    from domplay.sites import BUILTIN_SITES, site_class

    for name in BUILTIN_SITES:
        cls = site_class(name)
        first = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        click.echo(f"/{name}/  {'(needs JavaScript) ' if cls.needs_js else ''}{first}")


if __name__ == "__main__":
    main()
