"""The real start-up path in a child process: probe, sign-in window, background open, main window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DRIVER = """
import os, sys
from PySide6.QtCore import QTimer
import desktop.ui.sign_in as sign_in
import desktop.ui.main_window as main_window

original_show = sign_in.SignInDialog.showEvent
def sign_in_shown(self, event):
    original_show(self, event)
    print("sign-in shown", flush=True)
    def submit():
        self.username.setText(sys.argv[2])
        self.password.setText(sys.argv[3])
        self.submit()
    QTimer.singleShot(0, submit)
sign_in.SignInDialog.showEvent = sign_in_shown

def window_shown(self, event):
    titles = [self.navigation.item(i).text() for i in range(self.navigation.count())]
    print("main window:", self.user_label.text(), "|", ",".join(titles), flush=True)
    os._exit(0)
main_window.MainWindow.showEvent = window_shown

from desktop.cli import main
sys.exit(main(["--data-dir", sys.argv[1], "gui", *sys.argv[4:]]))
"""


def run_driver(data_dir: Path, username: str, password: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", DRIVER, str(data_dir), username, password, *extra],
                          capture_output=True, text=True, timeout=60, env=env)


def test_first_run_with_demo_reaches_the_main_window(tmp_path):
    result = run_driver(tmp_path / "data", "admin", "Demo#2026", "--demo-if-empty")
    assert result.returncode == 0, result.stderr
    assert "演示账户（密码均为 Demo#2026）" in result.stdout
    assert "sign-in shown" in result.stdout
    assert "main window: 赵磊（系统管理员） | 工作台,数据同步,分院与村,账户管理,审计日志,数据备份" in result.stdout


def test_second_start_signs_in_a_village_doctor(tmp_path):
    first = run_driver(tmp_path / "data", "admin", "Demo#2026", "--demo-if-empty")
    assert first.returncode == 0, first.stderr
    result = run_driver(tmp_path / "data", "cunyi101", "Demo#2026")
    assert result.returncode == 0, result.stderr
    assert "演示账户" not in result.stdout.split("sign-in shown")[0]
    assert "main window: 李秀兰（乡村医生） | 工作台,居民档案,管理指标,分院与村" in result.stdout
