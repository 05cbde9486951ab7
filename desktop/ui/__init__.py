"""The Qt face of township-desk: the only package that imports PySide6."""
