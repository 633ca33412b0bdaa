"""Run at every Python start-up while .ci/run puts this folder on PYTHONPATH: makes
``codeit._interp`` the build named by CODEIT_SANITIZED_INTERP (AddressSanitizer and UBSan), in
this process and in every Python process it starts, subprocess tests included."""

import importlib.util
import os
import sys

_path = os.environ.get("CODEIT_SANITIZED_INTERP")
if _path:
    _spec = importlib.util.spec_from_file_location("codeit._interp", _path)
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    sys.modules["codeit._interp"] = _module
