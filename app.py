"""lsu-import — routes and event handlers only; all logic lives in chalicelib/."""
from chalice import Chalice

from chalicelib.api import routes as api
from chalicelib.pipeline import report
from chalicelib.pipeline.split import stage as splitter
from chalicelib.api import web
from chalicelib.pipeline.merge import stage as worker
from chalicelib.config import DEFAULT_NAMES
from chalicelib.runtime import get_runtime

app = Chalice(app_name="lsu-import")
app.api.binary_types.append("application/pdf")


@app.route("/", methods=["GET"])
def index():
    return web.index_page(get_runtime().settings)


@app.route("/app.js", methods=["GET"])
def script():
    return web.static("app.js")


@app.route("/dev/etablissements", methods=["GET"])
def dev_schools():
    return api.dev_schools(app.current_request, get_runtime())


@app.route("/dev/connexion", methods=["POST"])
def dev_login():
    return api.dev_login(app.current_request, get_runtime())


@app.route("/divisions", methods=["GET"])
def list_divisions():
    return api.list_divisions(app.current_request, get_runtime())


@app.route("/imports", methods=["POST"])
def create_import():
    return api.create_import(app.current_request, get_runtime())


@app.route("/imports", methods=["GET"])
def list_imports():
    return api.list_imports(app.current_request, get_runtime())


@app.route("/imports/{import_id}", methods=["GET"])
def get_import(import_id):
    return api.get_import(app.current_request, get_runtime(), import_id)


@app.route("/imports/{import_id}/synthese", methods=["GET"])
def get_synthese(import_id):
    return api.get_synthese(app.current_request, get_runtime(), import_id)


@app.route("/referentiel", methods=["PUT"])
def put_referentiel():
    return api.put_referentiel(app.current_request, get_runtime())


@app.route("/referentiel", methods=["GET"])
def get_referentiel():
    return api.get_referentiel(app.current_request, get_runtime())


@app.route("/referentiel/exports", methods=["POST"])
def import_referentiel_exports():
    return api.import_referentiel_exports(app.current_request, get_runtime())


@app.route("/referentiel/divisions/{code}/mode", methods=["PUT"])
def set_division_mode(code):
    return api.set_division_mode(app.current_request, get_runtime(), code)


@app.route("/bilans", methods=["GET"])
def search_bilans():
    return api.search_bilans(app.current_request, get_runtime())


@app.route("/bilans/{id_be}/{bilan}/pdf", methods=["GET"])
def bilan_pdf(id_be, bilan):
    return api.bilan_pdf(app.current_request, get_runtime(), id_be, bilan)


@app.route("/divisions/{code}/pdf", methods=["GET"])
def division_pdf(code):
    return api.division_pdf(app.current_request, get_runtime(), code)


@app.route("/bilans/{id_be}/{bilan}", methods=["GET"])
def get_bilan(id_be, bilan):
    return api.get_bilan(app.current_request, get_runtime(), id_be, bilan)


@app.route("/bilans/{id_be}/{bilan}/parties/{part}", methods=["PUT"])
def edit_bilan(id_be, bilan, part):
    return api.edit_bilan(app.current_request, get_runtime(), id_be, bilan, part)


@app.route("/bilans/{id_be}/{bilan}/verrou", methods=["PUT"])
def lock_bilan(id_be, bilan):
    return api.lock_bilan(app.current_request, get_runtime(), id_be, bilan)


@app.route("/bilans/{id_be}/{bilan}/verrou", methods=["DELETE"])
def unlock_bilan(id_be, bilan):
    return api.unlock_bilan(app.current_request, get_runtime(), id_be, bilan)


# Queue names here are the base names; infra/ binds each stage's real queues (ReportBatchItemFailures
# is set on the event source mappings there: Chalice cannot).
@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_UPLOADS_QUEUE"], batch_size=1)
def on_upload(event):
    return splitter.process_uploads_event(event.to_dict(), get_runtime())


@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_BILANS_QUEUE"], batch_size=10)
def on_bilans(event):
    return worker.process_bilans_event(event.to_dict(), get_runtime())


@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_BILANS_QUEUE"] + "-dlq", batch_size=10)
def on_bilans_dead_letters(event):
    return worker.process_dead_letters_event(event.to_dict(), get_runtime())


@app.on_sqs_message(queue=DEFAULT_NAMES["LSU_REPORT_QUEUE"], batch_size=1)
def on_report(event):
    return report.process_report_event(event.to_dict(), get_runtime())
