"""Import the campaign's enterprise list (enterprises.csv / shops.csv) and export it again.

The one path every bulk load takes: the ``import-data`` CLI, the staff console's upload and the
demo data. Rules:

* enterprises.csv columns ``uscc,name,brands,city,industries,description,website,founded,badges,
  certified``; shops.csv ``uscc,platform,name,url,shop_type``; the Chinese header names are
  accepted too. Lists are separated by ``;`` or ``；``. UTF-8 (with or without BOM) and GB18030/GBK.
* All rows are validated first. Any bad row rejects the whole import: the report lists every bad
  row (file, line, column, reason in Chinese) and nothing is written.
* Idempotent: enterprises match on 统一社会信用代码, shops on the normalised URL; a row equal to
  the stored one changes nothing, so importing the same files twice reports "unchanged".
* ``certified`` 是 makes the enterprise certified (certificate issued) with its listed shops;
  否 creates an unclaimed draft listing (``source="import"``, no owner). An import never
  demotes: a certified / suspended / revoked enterprise keeps its status (use the console).

Fast enough for 10,000 enterprises / 50,000 shops: reference rows are cached, existing rows are
fetched in chunks, and new rows are flushed in batches. Services flush, never commit.

Package layout (each module one step, imports flow downwards):

* ``report``  — ``RowError``, ``ImportReport``, the progress bar;
* ``csvfile`` — decoding and header mapping, file -> rows;
* ``rows``    — validating one row against the reference data;
* ``parse``   — step 1: both files read and validated, the stored rows they match loaded;
* ``plan``    — step 2: what each row changes, creates or certifies (a dry run stops here);
* ``writer``  — step 3 and ``run_import``: update, bulk insert, certificates, audit log;
* ``export``  — enterprises.csv / shops.csv export with formula neutralisation;
* ``cli``     — ``flask import-data``.

Every name the single-module ``importer.py`` had is re-exported here, so
``from marketplace.services.importer import run_import`` etc. keep working.
"""
from __future__ import annotations

from .report import (  # noqa: F401
    ENTITIES, ImportReport, RowError, _Progress, _chunks, _zero,
)
from .csvfile import (  # noqa: F401
    ENTERPRISE_COLUMNS, ENTERPRISE_HEADERS, FORMULA_CHARS, LABELS, REQUIRED, SHOP_COLUMNS,
    SHOP_HEADERS, decode_csv_bytes, _needs_apostrophe, _read_rows, _unneutralise,
)
from .rows import (  # noqa: F401
    FALSE_WORDS, MAX_BRANDS, TRUE_WORDS, _EntRow, _Refs, _ShopRow, _default_shop_type, _parse_bool,
    _parse_year, _validate_enterprise, _validate_shop,
)
from .parse import (  # noqa: F401
    ParsedImport, parse_import, _load_enterprises, _load_shops,
)
from .plan import (  # noqa: F401
    ImportPlan, plan_import, _enterprise_changes, _will_certify,
)
from .writer import (  # noqa: F401
    BATCH, apply_import, run_import, _apply_enterprise, _queue_reindex,
)
from .export import (  # noqa: F401
    export_enterprises_csv, export_shops_csv, neutralise_cell, _csv_bytes,
)
from .cli import (  # noqa: F401
    register_cli,
)
