"""township-desk: the township hospital's desk (乡镇卫生院工作台)."""

__version__ = "0.1.0"
APP_NAME = "township-desk"
APP_TITLE = "乡镇卫生院工作台"
