"""Windows DPAPI (CryptProtectData) through ctypes: data only this Windows account can unprotect."""

from __future__ import annotations

import ctypes
import sys
from ctypes import wintypes

from desktop.errors import UserFacingError

_ENTROPY = b"township-desk site secrets v1"
CRYPTPROTECT_UI_FORBIDDEN = 0x01


class _Blob(ctypes.Structure):
    _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char))]


def _blob(data: bytes) -> _Blob:
    buffer = ctypes.create_string_buffer(data, len(data))
    return _Blob(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_char)))


def _call(function_name: str, data: bytes) -> bytes:
    if sys.platform != "win32":
        raise UserFacingError("DPAPI 只在 Windows 上可用。")
    crypt32 = ctypes.windll.crypt32  # type: ignore[attr-defined]
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    source, entropy, result = _blob(data), _blob(_ENTROPY), _Blob()
    function = getattr(crypt32, function_name)
    if function_name == "CryptProtectData":
        ok = function(ctypes.byref(source), "township-desk", ctypes.byref(entropy), None, None,
                      CRYPTPROTECT_UI_FORBIDDEN, ctypes.byref(result))
    else:
        ok = function(ctypes.byref(source), None, ctypes.byref(entropy), None, None,
                      CRYPTPROTECT_UI_FORBIDDEN, ctypes.byref(result))
    if not ok:
        raise UserFacingError("Windows 无法保护或读取数据库密钥（DPAPI）。", details=str(ctypes.GetLastError()))
    try:
        return ctypes.string_at(result.pbData, result.cbData)
    finally:
        kernel32.LocalFree(result.pbData)


def protect(data: bytes) -> bytes:
    return _call("CryptProtectData", data)


def unprotect(data: bytes) -> bytes:
    return _call("CryptUnprotectData", data)
