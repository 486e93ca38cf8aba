"""Read-side queries behind the consumer pages: browse, counts, featured listings.

Plain functions over the session (no request objects), so the public views, the staff console's
home preview and the API can share them. Only public rows are ever returned: certified
enterprises, and for platform / shop-type filters only enterprises with a certified shop there.
Every list eager-loads what its cards show (brands, industries, badges, city, shops with their
platform), so a page of 20 costs a handful of queries whatever the directory's size.

Package layout (one job per module; imports only point down this list):

* ``cache`` – the per-process aggregate cache (``clear_cache``).
* ``rows`` – plain frozen industry / city / platform rows.
* ``filters`` – browse filters, sorts, the public enterprise query and ``browse``.
* ``aggregates`` – home counts and counts per industry, city, region, platform.
* ``facets`` – browse sidebar counts narrowed by the filters already chosen.
* ``detail`` – an enterprise with its shops by platform; a platform's shops.
* ``featured_slots`` – ``featured``: curated slots and the automatic fallback.

Every name is re-exported here, so ``from marketplace.services.catalog import X`` and
``catalog.X`` keep working.
"""
from __future__ import annotations

from .cache import (  # noqa: F401
    _cache_lock, cached, clear_cache, T,
)
from .rows import (  # noqa: F401
    CityRow, IndustryRow, PlatformRow,
)
from .filters import (  # noqa: F401
    _card_options, _clean, _home_card_options, _ordered, browse, BrowseFilters, DEFAULT_SORT, FILTER_KEYS, load_cards, newest_ids, newly_certified, parse_filters, public_enterprise_query, SORTS, UnknownFilter,
)
from .aggregates import (  # noqa: F401
    _shop_stats, cities_by_region, cities_with_counts, counts, HomeCounts, industries_with_counts, platforms_with_counts,
)
from .facets import (  # noqa: F401
    BrowseFacets, browse_facets,
)
from .detail import (  # noqa: F401
    get_enterprise, platform_shops, shops_by_platform,
)
from .featured_slots import (  # noqa: F401
    _fallback_carousel, _fallback_industry_rows, _load_public, CAROUSEL_SIZE, Featured, featured, home_listings, INDUSTRY_ROW_SIZE, INDUSTRY_ROWS, live_slots,
)

__all__ = [
    "BrowseFacets",
    "browse_facets",
    "_cache_lock",
    "cached",
    "clear_cache",
    "T",
    "CityRow",
    "IndustryRow",
    "PlatformRow",
    "_card_options",
    "_clean",
    "_ordered",
    "browse",
    "BrowseFilters",
    "DEFAULT_SORT",
    "FILTER_KEYS",
    "_home_card_options",
    "load_cards",
    "newest_ids",
    "newly_certified",
    "parse_filters",
    "public_enterprise_query",
    "SORTS",
    "UnknownFilter",
    "_shop_stats",
    "cities_by_region",
    "cities_with_counts",
    "counts",
    "HomeCounts",
    "industries_with_counts",
    "platforms_with_counts",
    "get_enterprise",
    "platform_shops",
    "shops_by_platform",
    "_fallback_carousel",
    "_fallback_industry_rows",
    "_load_public",
    "CAROUSEL_SIZE",
    "Featured",
    "featured",
    "home_listings",
    "INDUSTRY_ROW_SIZE",
    "INDUSTRY_ROWS",
    "live_slots",
]
