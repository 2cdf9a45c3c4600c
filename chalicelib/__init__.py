"""What runs in Lambda, by role: `domain` (pure LSU rules), `pipeline` (the stages, in flow order:
`upload`, `split`, `merge`, `report`), `adapters` (storage and queues behind ports), `api` (the HTTP
routes by resource), `referentiel` (the school's SIECLE/STS picture). Tooling lives in `lsu_tools/`."""
