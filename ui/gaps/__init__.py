"""Parts of the "Service gaps" page (``ui/pages/gaps.py``): one module per tab or concept."""
