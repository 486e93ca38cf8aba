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

Callers import from the module that defines what they use (``importer.writer.run_import`` ...).
"""
