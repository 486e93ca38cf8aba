"""The ``trust`` blueprint (see ``blueprint``): one module per topic.

* ``blueprint``    — ``bp`` and ``certificate_or_404`` (imports no topic module);
* ``certificates`` — the certificate page and the embeddable SVG badge;
* ``verify``       — the /verify page and the enterprise page's JSON-LD and share links;
* ``qr``           — QR codes of enterprise and certificate pages;
* ``developers``   — /api and /developers.

Importing the package imports every topic module, which registers its routes on ``bp``.
"""
from . import certificates, developers, qr, verify  # noqa: F401
from .blueprint import bp  # noqa: F401
