"""Stage 3: the worker of the bilans queue (`stage`): it loads, decides (chalicelib.domain) and writes."""
