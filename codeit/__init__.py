"""codeit: CodeIt-style self-improving program synthesis on ARC."""

__version__ = "0.1.0"
