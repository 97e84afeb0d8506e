"""Pages and parts of pages for field reports (:mod:`field`): the report form, the dispatch
queue and the Progress section. Logic lives in :mod:`field`; these modules only show it."""
