"""Executing programs in bulk: the native batch interpreter and its typed Python layer."""
