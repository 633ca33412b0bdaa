"""Executing programs in bulk under hard limits.

``limits.py`` (the one ``Limits``), ``executor.py`` (the ``Executor`` interface), ``backends.py``
(an executor by name, never a silent fallback), ``native.py`` (the C++ batch interpreter's typed
layer), ``reference.py`` (the Python oracle), ``ray.py`` and ``packing.py`` (native interpreters on
Ray actors), ``align.py`` and ``fuzz.py`` (native/reference alignment checks), ``adversarial.py``
(programs built to overrun their limits, and how far past its time limit each interpreter returns).
"""
