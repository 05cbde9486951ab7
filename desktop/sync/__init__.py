"""Sync with the head hospital (see sync-protocol.md). Qt-free.

`crypto` (keys, signatures, sealing), `package` (the signed zip both sides read),
`envelope` (signed receipts, feed pages, catalogues), `records` (the registry of
syncable types and their canonical JSON), then the branch side: `site` (settings and
counters), `outbox`, `receipts`, `apply`, `feed`, `recovery`, `reports`, `transport`, `client`,
`enrolment`, `usb`, `status`.
"""
