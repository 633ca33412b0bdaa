"""A run: its config, the driver of the meta-iterations, checkpoint evaluation, and the reports.

``config.py`` (settings and presets), ``driver.py`` (the loop), ``sampling.py`` and ``prompts.py``
(the run's view of the policy), ``scoreboard.py`` (top-3 selection), ``evaluation.py``
(``codeit eval``), ``report.py`` (metrics, curve, HTML).
"""
