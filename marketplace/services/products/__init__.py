"""Products (名优广货): the merchant's listing (``manage``), the rules its input must pass
(``fields``), staff review (``review``), the public queries (``listing``) and the demo set
(``demo``). Nothing is public before staff approve it (``models/product.py``).
"""
