"""Merchant-side operations on enterprises, shops and certification applications.

Every function takes the acting merchant and checks ownership itself, so a view cannot forget
it: another merchant's object is reported as ``NotFound`` (the view turns that into a 404) and
nothing changes. Functions flush, never commit, and write an audit entry for every change.

The status contract is followed exactly:

* draft / rejected / expired enterprises are edited directly and submitted as an
  ``Application(kind=enterprise)``; the enterprise and its draft shops become pending;
* a certified enterprise is never edited directly: its changes wait in a pending
  ``Application(kind=enterprise_edit)`` whose payload holds only the changed fields;
* a shop added to a certified enterprise is pending behind an ``Application(kind=shop)``;
  a certified shop's changes wait in an ``Application(kind=shop_edit)``;
* removing a shop takes effect at once, also for a certified shop: it only reduces what
  consumers see, so there is nothing for staff to check (the audit log keeps the trace).
  Suspended or revoked shops cannot be removed by the merchant, so a staff decision is never
  erased; pending listings under review cannot change until the application is withdrawn.

Package layout (imports flow common -> lookups -> the rest):

* ``common``       — limits, editable-field lists, ``FieldErrors``, ``EditResult``, withdrawal;
* ``lookups``      — ownership-checked getters and the reference lists for the forms;
* ``enterprises``  — create / edit an enterprise, the logo;
* ``claims``       — claiming an imported, unowned enterprise;
* ``shops``        — add / edit / remove a shop;
* ``applications`` — submit for certification, withdraw an application;
* ``dashboard``    — read-only data for the merchant dashboard.

Callers import from the module that defines a name (``from ..services.listings.shops import
add_shop``); this package re-exports nothing.
"""
