"""Campaign staff console (``/staff``): one module per topic, all on the blueprint of ``blueprint``.

* ``blueprint``     — ``bp``, ``staff_only`` and the before-request guard (imports no topic module);
* ``dashboard``     — the console home;
* ``review``        — the review queue, one application, approve / reject;
* ``listings``      — find an enterprise, suspend / revoke / reinstate it or a shop, badges;
* ``curation``      — featured slots and the home preview;
* ``complaints``    — complaint triage;
* ``stats``         — statistics page and chart data;
* ``import_export`` — CSV import (dry run, apply) and export;
* ``admin``         — the audit log and staff accounts;
* ``news``          — news and announcements (资讯发布);
* ``synonyms``      — search synonyms (搜索同义词);
* ``forms``         — the console's Flask-WTF forms.

Importing the package imports every topic module, which registers its routes on ``bp``.
"""
from . import admin, complaints, curation, dashboard, import_export, listings, news, review, stats, synonyms  # noqa: F401
from .blueprint import bp  # noqa: F401
