"""LSU's rules as pure functions: no I/O, no AWS, no clock (callers pass `now`). The vocabulary
(`vocabulary`), the messages (`catalogue`), the checks of a bilan against the référentiel (`checks`), the
merge rules (`merge_rules`, with `decide`), a bilan's state, view and completion (`merge`), the synthèse
(`synthese`)."""
