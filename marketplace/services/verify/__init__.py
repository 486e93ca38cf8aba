"""Verify a shop: is this link, certificate number, 统一社会信用代码 or name a certified listing?

Consumers paste whatever their phone gave them: a desktop URL, a mobile or share URL full of
tracking parameters, or the whole share text ("【淘宝】https://m.tb.cn/... 「某某旗舰店」").
Every platform writes the same shop in several forms (``midea.tmall.com`` and
``midea.m.tmall.com``; ``mall.jd.com/index-1000.html`` and ``shop.m.jd.com/?shopId=1000``), so a
link is reduced to a *shop identity* — the platform family plus the shop id, seller id or shop
sub-domain — that can be derived without any network access. Stored shop URLs are reduced the
same way and compared. Short links (``m.tb.cn``, ``u.jd.com``, ``v.douyin.com`` …) only say where
they lead after a network fetch, which we never make: the consumer is told so.

Links are parsed as browsers parse them (``validation.urls.parse_web_url``). Only hosts that
belong to a platform (``Platform.host_list``) get a platform identity: a look-alike host such as
``meihao.tmall.com.evil.example`` or ``meihao-tmall.com`` can never match a certified shop; when
it names one, the answer is "suspicious" and names the real shop.

Modules (imports flow identity, results -> lookalike, names -> lookup):

* ``identity``  — link -> shop identity per platform (the ``RULES`` table), short links, URL in
  share text (no database);
* ``results``   — ``Outcome``, ``VerifyResult``, advice texts, certificate/listing outcome rules;
* ``lookalike`` — hosts on no platform that name a certified shop or brand;
* ``names``     — brand or company names, and the brands a share text mentions;
* ``lookup``    — ``verify_url``, ``verify_certificate``, ``verify_uscc``, ``detect_kind``, ``verify``.

Callers import from these modules.
"""
