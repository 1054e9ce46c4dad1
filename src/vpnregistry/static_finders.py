"""Static-file finders that answer "not found" for a path leaving the static folders.

Django's finders join the requested path onto each static folder with `safe_join`, which raises
SuspiciousFileOperation for `../..`; the static handler of `runserver` (what `make run` serves
with debug on) catches only Http404, so `/static/..%2f..` was a 500. A path outside the folders is
simply not among the static files: these finders say so, and the handler answers 404.
"""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation


class FileSystemFinder(finders.FileSystemFinder):
    def find(self, path, *args, **kwargs):
        try:
            return super().find(path, *args, **kwargs)
        except SuspiciousFileOperation:
            return []


class AppDirectoriesFinder(finders.AppDirectoriesFinder):
    def find(self, path, *args, **kwargs):
        try:
            return super().find(path, *args, **kwargs)
        except SuspiciousFileOperation:
            return []
