"""The wire format the branch app and the head hospital share (see sync-protocol.md). Qt-free.

`crypto` (keys, signatures, sealing), `package` (the signed zip both sides read), `envelope`
(signed receipts, feed pages, catalogues), `api` (paths, request signing and nonces), `answer`
(answers to signed requests, sealed to the site and echoing the request), `types` (the
registry of syncable record types), `files` (durable USB files) and `errors` (the root of the
one error hierarchy). It imports nothing of either application.
"""
