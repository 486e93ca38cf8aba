"""Shopping festivals (网购节) and their offers.

Modules (imports only point down this list; views import the module they need):

* ``schedule``     – staff create, edit, hide and show events (times typed in China time);
* ``offer_fields`` – the rules an offer's input must pass (types, amounts, dates, coupon code);
* ``offers``       – certified merchants enroll their certified shops with offers;
* ``offer_review`` – staff approve or reject offers; the merchant gets a mail;
* ``listing``      – what the public sees: visible offers, filters, the featured event, clicks;
* ``report``       – participants, offers and clicks per day of an event, as chart tables;
* ``demo``         – the fictional live and ended events of the demo data.

Visibility is decided at query time (``listing.visible_offer_filter``): approved, not ended,
event not hidden, shop and enterprise certified. So an offer expires and a revoked shop's
offers vanish without any job; the page cache follows the same instants (``listing.next_change``).
"""
