"""HTTP to the head hospital: signed requests, retries with capped exponential backoff and
full jitter, and the errors a clerk can read. Never retries 401, 403 or 422.

Each attempt of a signed request carries a fresh nonce; its 2xx answer must be sealed to this
site, signed by the pinned head hospital and echo that nonce (`township_wire.answer`), or it is
refused with `AnswerRefused` and never retried."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from desktop.errors import Cancelled, UserFacingError
from desktop.sync.wire import clock_problem
from township_wire.answer import open_answer, request_line
from township_wire.api import API_PREFIX, CODE_BUSY, CODE_CLOCK_SKEW, new_nonce, sign_request
from township_wire.crypto import KeyPair, PublicKeys

log = logging.getLogger("township_desk.sync")


class Offline(UserFacingError):
    """The head hospital cannot be reached now; everything stays queued."""


class ServerRefused(UserFacingError):
    """The head hospital answered with a refusal that retrying will not change."""

    def __init__(self, message: str, *, status: int, code: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.body = status, code, body or {}


AWAITING_APPROVAL_TEXT = ("等待总院批准：本分院已登记，总院管理员核对密钥指纹并批准后即可同步；"
                         "在此之前录入的记录都安全地保存在本机。")


class AwaitingApproval(ServerRefused):
    """The head hospital knows this site but has not approved it yet: a step to wait for, not a fault."""

    def __init__(self, refused: ServerRefused) -> None:
        super().__init__(AWAITING_APPROVAL_TEXT, status=refused.status, code=refused.code, body=refused.body)


@dataclass
class RetryPolicy:
    """Capped exponential backoff with full jitter (sleep uniformly in [0, min(cap, base·2^n)])."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def pause(self, attempt: int, abort: threading.Event | None = None) -> None:
        delay = self.rng.uniform(0, min(self.cap, self.base * 2 ** attempt))
        if abort is not None:
            abort.wait(delay)  # a cancelled sync stops waiting at once
        else:
            self.sleep(delay)


_NEVER_RETRY = frozenset({400, 401, 403, 404, 413, 422, 429})  # 429: enrolment limited; retrying counts against it
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a receipt for a full package is a few MB


@dataclass(frozen=True)
class Answer:
    """A response read in full (within the size limit)."""

    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class Transport:
    """Signed requests to one head hospital."""

    base_url: str
    site_id: str
    keys: KeyPair
    head_keys: PublicKeys | None = None  # pinned at enrolment; every signed answer is checked against it
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 60.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    abort: threading.Event | None = None
    _client: Any = None

    def __post_init__(self) -> None:
        import httpx

        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UserFacingError(f"总院地址 {self.base_url!r} 不对，应形如 http://主机:端口。")
        self._client = httpx.Client(base_url=self.base_url.rstrip("/"),
                                    timeout=httpx.Timeout(self.timeout, connect=10.0), trust_env=False)

    @classmethod
    def for_enrolment(cls, enrolment: Any, *, server_url: str | None = None, retry: RetryPolicy | None = None,
                      abort: threading.Event | None = None) -> Transport:
        """A transport for an enrolled site (`desktop.sync.site.Enrolment`): its keys and its head hospital's."""
        return cls(server_url or enrolment.server_url, enrolment.site_id, enrolment.site_keys,
                   head_keys=enrolment.head_keys, retry=retry or RetryPolicy(), abort=abort)

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
                ok: tuple[int, ...] = (200,), signed: bool = True) -> Answer:
        """One request with retries on network failures, 5xx and 409 busy; returns the response."""
        import httpx

        for attempt in range(self.retry.attempts):
            if self.abort is not None and self.abort.is_set():
                raise Cancelled()
            target = f"{API_PREFIX}{path}"
            all_headers = dict(headers or {})
            nonce = new_nonce() if signed else ""
            if signed:
                stamp = self.clock().isoformat(timespec="seconds")
                all_headers |= sign_request(self.keys, self.site_id, method, target, stamp, body, nonce=nonce)
            try:
                response = self._send(method, target, body, all_headers)
            except httpx.HTTPError as error:
                log.info("request %s %s failed: %s: %s", method, target, type(error).__name__, error)
                failure: Exception = Offline("无法连接总院（网络不通或总院服务未开），数据已保留在本机，稍后自动重试。")
            else:
                if response.status_code in ok:
                    return self._opened(response, method=method, target=target, nonce=nonce) if signed else response
                failure = self._refusal(response)
                if response.status_code in _NEVER_RETRY or (response.status_code == 409 and
                                                               failure.code != CODE_BUSY):
                    raise failure
            if attempt + 1 < self.retry.attempts:
                self.retry.pause(attempt, self.abort)
        raise failure

    def _send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Answer:
        """Send and read the answer, never more than MAX_RESPONSE_BYTES of it."""
        with self._client.stream(method, target, content=body, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                raise ServerRefused(f"总院的答复过大（{int(declared) // 1048576} MB），已停止同步。",
                                    status=response.status_code, code="too_large")
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > MAX_RESPONSE_BYTES:
                    raise ServerRefused("总院的答复过大，已停止同步。", status=response.status_code, code="too_large")
            return Answer(response.status_code, bytes(content))

    def _opened(self, response: Answer, *, method: str, target: str, nonce: str) -> Answer:
        """The payload of a signed answer to this very request; `AnswerRefused` otherwise."""
        if self.head_keys is None:
            raise ValueError("a signed request needs the head hospital's pinned keys (Transport.head_keys)")
        payload = open_answer(response.content, nonce=nonce, request=request_line(method, target),
                              status=response.status_code, site_keys=self.keys, head=self.head_keys)
        return Answer(response.status_code, payload)

    def _refusal(self, response: Answer) -> ServerRefused:
        try:
            body = response.json()
            code, message = body.get("code", ""), body.get("message", "")
        except (ValueError, json.JSONDecodeError, AttributeError):
            body, code, message = {}, "", ""
        if isinstance(body, dict) and "detail" in body and isinstance(body["detail"], dict):
            body = body["detail"]
            code, message = body.get("code", code), body.get("message", message)
        text = message or f"总院返回错误 {response.status_code}"
        if code == CODE_CLOCK_SKEW:
            text = self._clock_words(body) or text
        return ServerRefused(text, status=response.status_code, code=code, body=body)

    def _clock_words(self, body: dict[str, Any]) -> str | None:
        """The clerk's words for a refused clock, from this PC's clock and the server's time in the refusal."""
        try:
            server = datetime.fromisoformat(str(body.get("server_time", "")).replace("Z", "+00:00"))
        except ValueError:
            return None
        return clock_problem(local=self.clock(), server=server)
