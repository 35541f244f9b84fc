"""`python -m domplay`: the `domplay` command line."""

from domplay.cli import main

main(prog_name="domplay")
