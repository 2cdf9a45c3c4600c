"""The HTTP API: routes by resource (`imports`, `referentiel`, `bilans`, `dev`), identity and rights
(`auth`), errors as French JSON (`errors`), renderers (`render`: PDF, CSV) and the web page (`web`)."""
