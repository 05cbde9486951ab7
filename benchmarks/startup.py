"""Start-up time: process start to the sign-in window shown, beside a bare PySide6 window.

Both are measured the same way: the parent starts a fresh Python process and stops the
clock when the child reports that its first window received its show event (offscreen).
Prints the median and p95 of several runs of each and the difference of the medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("STARTUP_RUNS", "9"))
MARKER = "window-shown"

BARE = f"""
import os
from PySide6.QtWidgets import QApplication, QWidget
class Window(QWidget):
    def showEvent(self, event):
        print("{MARKER}", flush=True)
        os._exit(0)
app = QApplication([])
window = Window()
window.show()
app.exec()
"""

APP = f"""
import os, sys
import desktop.ui.sign_in as sign_in
def shown(self, event):
    print("{MARKER}", flush=True)
    os._exit(0)
sign_in.SignInDialog.showEvent = shown
from desktop.cli import main
sys.exit(main(["--data-dir", sys.argv[1], "gui"]))
"""


def time_child(code: str, *args: str) -> float:
    """Seconds from starting the process to its window-shown marker."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == MARKER:
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"child exited without showing a window (exit {child.wait()})")
    child.wait(timeout=30)
    return elapsed


def summarise(name: str, samples: list[float]) -> float:
    samples.sort()
    median = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(f"{name:<28} median {median * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   ({len(samples)} runs)")
    return median


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        subprocess.run([sys.executable, "-m", "desktop", "--data-dir", data_dir, "demo"],
                       check=True, capture_output=True)
        time_child(APP, data_dir)  # warm the file cache once
        bare = [time_child(BARE) for _ in range(RUNS)]
        app = [time_child(APP, data_dir) for _ in range(RUNS)]
    bare_median = summarise("bare PySide6 window", bare)
    app_median = summarise("township-desk sign-in", app)
    print(f"difference of medians: {(app_median - bare_median) * 1000:.0f} ms (target: within 500 ms)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
