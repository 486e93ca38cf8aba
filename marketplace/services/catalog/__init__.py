"""Read-side queries behind the consumer pages: browse, counts, featured listings.

Plain functions over the session (no request objects), so the public views, the staff console's
home preview and the API can share them. Only public rows are ever returned: certified
enterprises, and for platform / shop-type filters only enterprises with a certified shop there.
Every list reads what its cards show (brands, industries, badges, city, shops with their
platform) in a few narrow column queries (``cards``), so a page of 20 costs a handful of
queries whatever the directory's size; cards are kept per process until their enterprise
changes, so a miss usually reads none.

Package layout (one job per module; imports only point down this list):

* ``cache`` – the per-process aggregate cache (``clear_cache``).
* ``rows`` – plain frozen industry / city / badge / platform rows.
* ``cards`` – ``load_cards``: the enterprise cards of the list pages and search hits, without ORM
  enterprises, kept per process (``CardStore``).
* ``filters`` – browse filters, sorts, the public enterprise query and ``browse``.
* ``aggregates`` – home counts and counts per industry, city, region, platform.
* ``facets`` – browse sidebar counts narrowed by the filters already chosen.
* ``detail`` – an enterprise with its shops by platform; a platform's shops.
* ``featured_slots`` – ``featured``: curated slots and the automatic fallback.

Nothing is re-exported here: import each name from the module that defines it.
"""
