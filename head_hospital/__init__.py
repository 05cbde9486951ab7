"""The head hospital's receiving service (总院接收服务): enrolment, uploads, receipts, feed, summaries.

Qt-free; shares the wire format in `township_wire` with the branch app.
"""
