"""Folium maps: rendering (``render``), display preparation (``display``), offline assets.

Above ``geo/`` and ``layers/`` in the import graph: it draws the layer records of ``layers``.
"""
