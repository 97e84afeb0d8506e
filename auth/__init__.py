"""Sign-in, roles, scopes and the audit trail.

:mod:`auth.model` (roles, scopes, permissions, scope filtering), :mod:`auth.passwords`
(Argon2id), :mod:`auth.storage` (the accounts protocol a store implements),
:mod:`auth.gpkg` (its GeoPackage implementation), :mod:`auth.sessions` (sign-in, throttling).
"""
