"""Field reports (网格事件): grid workers report, staff dispatch and close, meetings see response times.

One concept per module: :mod:`field.settings` (categories, limits, from the city profile),
:mod:`field.states` (states, transitions and who may make them), :mod:`field.limits`
(deadlines and overdue), :mod:`field.duplicates`, :mod:`field.clusters` (recurring problems),
:mod:`field.kpis`, :mod:`field.ranking` (ranked last twice in a row), :mod:`field.photos`,
:mod:`field.visits` (household visits), :mod:`field.store` (tables in the store) and
:mod:`field.demo` (synthetic reports). Everything here is pure: no Streamlit.
"""
