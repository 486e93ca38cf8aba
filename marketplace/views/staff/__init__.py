"""Campaign staff console (``/staff``): one module per topic, all on the blueprint of ``blueprint``.

* ``blueprint``     — ``bp``, ``staff_only`` and the before-request guard (imports no topic module);
* ``dashboard``     — the console home;
* ``review``        — the review queue, one application, approve / reject;
* ``listings``      — find an enterprise, suspend / revoke / reinstate it or a shop, badges;
* ``curation``      — featured slots and the home preview;
* ``events``        — 网购节: create, edit, hide; offer review; the event report;
* ``complaints``    — complaint triage (list, one complaint, assign, reply, 办结);
* ``complaint_process`` — the complaint stages (accept, refuse, mediate, objections) and the SLA view;
* ``stats``         — statistics page and chart data;
* ``reports``       — the statistics pilot: filing rates, late filers, aggregates and CSV;
* ``import_export`` — CSV import (dry run, apply) and export;
* ``admin``         — the audit log and staff accounts;
* ``news``          — news and announcements (资讯发布);
* ``authorizations`` — brand authorization letters to check, withdrawals;
* ``annual``        — annual confirmations (年度确认) to check;
* ``watch``         — the impersonation watch (疑似仿冒监测);
* ``synonyms``      — search synonyms (搜索同义词);
* ``objections``    — objections (异议) filed on 公示 entries: uphold or dismiss;
* ``forms``         — the console's Flask-WTF forms.

Importing the package imports every topic module, which registers its routes on ``bp``.
"""
from . import (  # noqa: F401
    admin, annual, authorizations, complaint_process, complaints, curation, dashboard, events, import_export, listings,
    news, objections, products, reports, review, stats, synonyms, watch,
)
from .blueprint import bp  # noqa: F401
