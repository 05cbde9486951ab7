"""The branch side of sync with the head hospital (see sync-protocol.md). Qt-free.

The wire format both sides read lives in `township_wire`. Here: `records` (the ORM models bound
to their wire types, and their canonical JSON), `site` (settings and counters), `outbox`,
`receipts`, `apply`, `feed`, `recovery`, `reports`, `transport`, `client`, `enrolment`, `usb`,
`status`.
"""
