"""Exams on machines: definition, roster, seats, time window, grading, reports, reset with proof.

The flow: ``definition`` (exam.yml) + ``roster`` (CSV) -> ``sitting`` (state, ledger) ->
``provision`` (seats on the lab, baseline layer frozen) -> ``window`` (start/stop) -> ``grading``
(the check engine, one SSH round trip per host, ``scoring`` into points) -> ``report`` ->
``reset`` (new empty layer, ``fingerprint`` proof).
"""
