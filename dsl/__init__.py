"""The ARC grid DSL (Hodel's arc-dsl interface), installed as ``codeit.dsl``."""
