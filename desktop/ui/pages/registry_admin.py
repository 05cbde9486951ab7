"""The administration pages and who may see them."""

from __future__ import annotations

from desktop.services.permissions import Permission
from desktop.ui.pages.accounts import AccountsPage
from desktop.ui.pages.audit import AuditPage
from desktop.ui.pages.backup import BackupPage
from desktop.ui.pages.base import PageSpec
from desktop.ui.pages.branch import BranchPage

ADMIN_PAGES: list[PageSpec] = [
    PageSpec("branch", "分院与村", BranchPage, Permission.VIEW_BRANCH),
    PageSpec("accounts", "账户管理", AccountsPage, Permission.MANAGE_ACCOUNTS),
    PageSpec("audit", "审计日志", AuditPage, Permission.VIEW_AUDIT),
    PageSpec("backup", "数据备份", BackupPage, Permission.BACKUP),
]
