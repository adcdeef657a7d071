"""Edge firmware A/B updates: signed SWUpdate bundles, slots, the boot stand-in, the health gate.

``description`` (sw-description), ``signing`` (CMS), ``bundle`` (build and read .swu files),
``verify`` (the controller-side checks every refusal starts from), ``versions``, ``layout`` (every
path and unit on a gateway), ``gateway_tool`` (the one program on the gateway that touches the
boot environment), ``status``/``history`` (what the gateway reports), ``update`` (the controller's
flow per gateway) and ``record`` (the run record's firmware section).
"""
