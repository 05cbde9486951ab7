"""The window's pages, in navigation order: one line per page.

`NAVIGATION` holds the work pages, `ADMIN_PAGES` the administration pages shown after them.
A record area adds its page with one `NAVIGATION.add(PageSpec(...))` line here; each entry
says who may see it (a permission and/or a `visible(actor)` test).
"""

from __future__ import annotations

from desktop.registry import Registry
from desktop.services.permissions import Permission
from desktop.ui.pages.accounts import AccountsPage
from desktop.ui.pages.audit import AuditPage
from desktop.ui.pages.backup import BackupPage
from desktop.ui.pages.base import PageSpec
from desktop.ui.pages.branch import BranchPage
from desktop.ui.pages.home import HomePage
from desktop.ui.pages.indicators import IndicatorsPage
from desktop.ui.pages.residents import ResidentsPage
from desktop.ui.pages.sync import SyncPage

SYNC_PAGE = "sync"

NAVIGATION: Registry[PageSpec] = Registry("navigation pages", lambda spec: spec.key)
NAVIGATION.add(PageSpec("home", "工作台", HomePage))
NAVIGATION.add(PageSpec("residents", "居民档案", ResidentsPage, permission=Permission.VIEW_RESIDENTS))
NAVIGATION.add(PageSpec("indicators", "管理指标", IndicatorsPage, permission=Permission.VIEW_INDICATORS))
NAVIGATION.add(PageSpec(SYNC_PAGE, "数据同步", SyncPage, permission=Permission.SYNC))

ADMIN_PAGES: Registry[PageSpec] = Registry("administration pages", lambda spec: spec.key)
ADMIN_PAGES.add(PageSpec("branch", "分院与村", BranchPage, Permission.VIEW_BRANCH))
ADMIN_PAGES.add(PageSpec("accounts", "账户管理", AccountsPage, Permission.MANAGE_ACCOUNTS))
ADMIN_PAGES.add(PageSpec("audit", "审计日志", AuditPage, Permission.VIEW_AUDIT))
ADMIN_PAGES.add(PageSpec("backup", "数据备份", BackupPage, Permission.BACKUP))


def all_pages() -> list[PageSpec]:
    """Every page in navigation order: the work pages, then the administration pages."""
    return [*NAVIGATION, *ADMIN_PAGES]
