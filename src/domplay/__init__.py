"""domplay: self-improving LLM web agents with DOM-grounded verification."""

__version__ = "0.1.0"
