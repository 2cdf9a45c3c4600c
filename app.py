"""lsu-import — routes and event handlers only; all logic lives in chalicelib/."""
from chalice import Chalice, Rate

from chalicelib.api import bilans, brevet, dashboard, dev, errors, imports, referentiel, web
from chalicelib.pipeline import report, watchdog
from chalicelib.pipeline.merge import stage as merge
from chalicelib.pipeline.split import stage as split
from chalicelib.config import DEFAULT_NAMES
from chalicelib.observability import observed
from chalicelib.runtime import get_runtime

app = Chalice(app_name="lsu-import")
app.api.binary_types.append("application/pdf")
app.api.binary_types.extend(web.BINARY_TYPES)      # the DSFR fonts (GET /dsfr/{name})


# Chalice's own answers (405, 415, 500…) in the API's French error shape (docs/contrats.md).
@app.middleware("http")
def french_errors(event, get_response):
    return errors.french_framework_errors(get_response(event))


@app.route("/", methods=["GET"])
def index():
    return web.index_page(get_runtime().settings)


@app.route("/app.js", methods=["GET"])
def script():
    return web.static("app.js")


@app.route("/dsfr/{name}", methods=["GET"])
def dsfr_asset(name):
    return web.dsfr_asset(name)


@app.route("/openapi.json", methods=["GET"])
def openapi_document():
    return web.openapi_document()


@app.route("/dev/etablissements", methods=["GET"])
def dev_schools():
    return dev.dev_schools(app.current_request, get_runtime())


@app.route("/dev/connexion", methods=["POST"])
def dev_login():
    return dev.dev_login(app.current_request, get_runtime())


@app.route("/divisions", methods=["GET"])
def list_divisions():
    return bilans.list_divisions(app.current_request, get_runtime())


@app.route("/tableau-de-bord", methods=["GET"])
def get_dashboard():
    return dashboard.get_dashboard(app.current_request, get_runtime())


@app.route("/imports", methods=["POST"])
def create_import():
    return imports.create_import(app.current_request, get_runtime())


@app.route("/imports", methods=["GET"])
def list_imports():
    return imports.list_imports(app.current_request, get_runtime())


@app.route("/imports/{import_id}", methods=["GET"])
def get_import(import_id):
    return imports.get_import(app.current_request, get_runtime(), import_id)


@app.route("/imports/{import_id}/synthese", methods=["GET"])
def get_synthese(import_id):
    return imports.get_synthese(app.current_request, get_runtime(), import_id)


@app.route("/referentiel", methods=["PUT"])
def put_referentiel():
    return referentiel.put_referentiel(app.current_request, get_runtime())


@app.route("/referentiel", methods=["GET"])
def get_referentiel():
    return referentiel.get_referentiel(app.current_request, get_runtime())


@app.route("/referentiel/exports", methods=["POST"])
def import_referentiel_exports():
    return referentiel.import_referentiel_exports(app.current_request, get_runtime())


@app.route("/referentiel/exports/depots", methods=["POST"])
def create_exports_depot():
    return referentiel.create_exports_depot(app.current_request, get_runtime())


@app.route("/referentiel/divisions/{code}/mode", methods=["PUT"])
def set_division_mode(code):
    return referentiel.set_division_mode(app.current_request, get_runtime(), code)


@app.route("/referentiel/divisions/{code}/evaluation", methods=["PUT"])
def set_division_evaluation(code):
    return referentiel.set_division_evaluation(app.current_request, get_runtime(), code)


@app.route("/bilans", methods=["GET"])
def search_bilans():
    return bilans.search_bilans(app.current_request, get_runtime())


@app.route("/bilans/{id_be}/{bilan}/pdf", methods=["GET"])
def bilan_pdf(id_be, bilan):
    return bilans.bilan_pdf(app.current_request, get_runtime(), id_be, bilan)


@app.route("/divisions/{code}/pdf", methods=["GET"])
def division_pdf(code):
    return bilans.division_pdf(app.current_request, get_runtime(), code)


@app.route("/divisions/{code}/brevet", methods=["GET"])
def division_brevet(code):
    return brevet.division_brevet(app.current_request, get_runtime(), code)


@app.route("/bilans/{id_be}/{bilan}", methods=["GET"])
def get_bilan(id_be, bilan):
    return bilans.get_bilan(app.current_request, get_runtime(), id_be, bilan)


@app.route("/bilans/{id_be}/{bilan}/parties/{part}", methods=["PUT"])
def edit_bilan(id_be, bilan, part):
    return bilans.edit_bilan(app.current_request, get_runtime(), id_be, bilan, part)


@app.route("/bilans/{id_be}/{bilan}/verrou", methods=["PUT"])
def lock_bilan(id_be, bilan):
    return bilans.lock_bilan(app.current_request, get_runtime(), id_be, bilan)


@app.route("/bilans/{id_be}/{bilan}/verrou", methods=["DELETE"])
def unlock_bilan(id_be, bilan):
    return bilans.unlock_bilan(app.current_request, get_runtime(), id_be, bilan)


# Queue names here are the base names; infra/ binds each stage's real queues (ReportBatchItemFailures
# is set on the event source mappings there: Chalice cannot).
@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_UPLOADS_QUEUE"], batch_size=1)
@observed("split")
def on_upload(event):
    return split.process_uploads_event(event.to_dict(), get_runtime())


@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_BILANS_QUEUE"], batch_size=10)
@observed("merge")
def on_bilans(event):
    return merge.process_bilans_event(event.to_dict(), get_runtime())


@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_BILANS_QUEUE"] + "-dlq", batch_size=10)
@observed("merge_dead_letters")
def on_bilans_dead_letters(event):
    return merge.process_dead_letters_event(event.to_dict(), get_runtime())


@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_REPORT_QUEUE"], batch_size=1)
@observed("report")
def on_report(event):
    return report.process_report_event(event.to_dict(), get_runtime())


# Every import reaches a final state: stale imports finished, unclaimed uploads expired.
@app.schedule(Rate(5, unit=Rate.MINUTES))
@observed("watchdog")
def on_watchdog(event):
    return watchdog.process_watchdog_event(event.to_dict(), get_runtime())
