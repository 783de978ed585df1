"""Inline node secrets: encrypted in drafts and versions, masked for every reader, kept when a save sends the
mask back, dropped from exports, decrypted for the plan, re-encrypted by rotation; and production refuses the
built-in key."""
from __future__ import annotations

import copy
import dataclasses

import pytest
from sqlalchemy import select, update

from designer import drafts, templates
from designer.errors import ApiError
from flows.problem import errors
from flows.spec import MASK, SECRET_BY_NAME, secret_paths, secret_values
from nodes import connector_http, event_webhook
from runtime import deployments, secrets
from runtime.models import Flow, FlowVersion
from runtime.plan import PlanError, compile, compile_for
from runtime.settings import DEV_SECRET_KEY, InsecureSettings, Settings, check_production

TOKEN, PASSWORD, HEADER, HMAC = "tok-Xq81-secret", "pw-7731-secret", "Bearer hdr-4456-secret", "hmac-0912-secret"
PLAIN = (TOKEN, PASSWORD, HEADER, HMAC)


def flow(flow_id: str = "f-secret") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": [
        {"id": "hook", "type": "event.webhook", "config": {"path": f"{flow_id}/in", "auth": "hmac",
                                                          "hmac_secret": HMAC}},
        {"id": "call", "type": "connector.http", "config": {
            "url": "http://erp.example/orders", "headers": {"Authorization": HEADER, "X-Tenant": "acme"},
            "auth": {"type": "bearer", "token": TOKEN}}},
        {"id": "basic", "type": "connector.http", "config": {
            "url": "http://wms.example/orders", "auth": {"type": "basic", "username": "svc", "password": PASSWORD}}},
        {"id": "done", "type": "control.discard", "config": {"reason": "end"}}],
        "edges": [{"id": "e1", "source": "hook", "source_port": "out", "target": "call", "target_port": "in"},
                  {"id": "e2", "source": "call", "source_port": "out", "target": "basic", "target_port": "in"},
                  {"id": "e3", "source": "basic", "source_port": "out", "target": "done", "target_port": "in"}]}


def node(doc: dict, node_id: str) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def text(value) -> str:
    return repr(value)


def test_the_spec_marks_credentials_and_credential_headers_secret():
    assert set(secret_paths(connector_http.SPEC.config)) == {("auth", "password"), ("auth", "token"),
                                                             ("auth", "key"), ("headers", "*")}
    assert secret_paths(event_webhook.SPEC.config) == (("hmac_secret",),)
    assert connector_http.Config().fields["headers"].metadata["secret"] == SECRET_BY_NAME
    config = {"headers": {"Authorization": "a", "X-Api-Key": "b", "Cookie": "c", "X-Auth-Token": "d",
                          "X-Client-Secret": "e", "Accept": "f", "X-Tenant": "g"}, "auth": {"token": "", "key": None}}
    assert sorted(p[1] for p in secret_values(connector_http.SPEC, config)) == [
        "Authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "X-Client-Secret"]  # empty values are no secrets


def test_concealed_documents_hold_no_plain_secret_and_are_masked_for_readers():
    settings = Settings()
    stored, left_out = secrets.conceal(settings, flow())
    assert not left_out
    assert not any(p in text(stored) for p in PLAIN)
    assert node(stored, "call")["config"]["auth"]["token"].startswith(secrets.PREFIX)
    assert node(stored, "call")["config"]["headers"]["X-Tenant"] == "acme"  # not a credential
    shown = secrets.masked(stored)
    assert node(shown, "call")["config"]["auth"]["token"] == MASK
    assert node(shown, "call")["config"]["headers"] == {"Authorization": MASK, "X-Tenant": "acme"}
    assert node(shown, "basic")["config"]["auth"] == {"type": "basic", "username": "svc", "password": MASK}
    assert node(shown, "hook")["config"]["hmac_secret"] == MASK
    assert node(shown, "done") is node(stored, "done")  # nodes without secrets are not copied
    assert node(stored, "call")["config"]["auth"]["token"].startswith(secrets.PREFIX)  # the stored one untouched
    dropped = secrets.dropped(stored)
    assert "token" not in node(dropped, "call")["config"]["auth"]
    assert node(dropped, "call")["config"]["headers"] == {"X-Tenant": "acme"}
    assert "hmac_secret" not in node(dropped, "hook")["config"]


def test_the_mask_keeps_the_stored_value_and_anything_else_replaces_it():
    settings = Settings()
    stored, _ = secrets.conceal(settings, flow())
    edited = secrets.masked(stored)
    node(edited, "basic")["config"]["auth"]["password"] = "a-new-password"
    saved, left_out = secrets.conceal(settings, copy.deepcopy(edited), stored)
    assert not left_out
    assert node(saved, "call")["config"] == node(stored, "call")["config"]  # kept as stored, not re-encrypted
    assert secrets.reveal(settings, node(saved, "basic")["config"]["auth"]["password"]) == "a-new-password"
    assert secrets.reveal(settings, node(saved, "hook")["config"]["hmac_secret"]) == HMAC


def test_the_mask_with_nothing_stored_leaves_the_field_out():
    settings = Settings()
    stored, _ = secrets.conceal(settings, flow())
    masked = secrets.masked(stored)
    # a new flow, or a node whose type changed: the mask stands for nothing it may keep
    saved, left_out = secrets.conceal(settings, copy.deepcopy(masked), None)
    assert left_out and "token" not in node(saved, "call")["config"]["auth"]
    other = copy.deepcopy(stored)
    node(other, "call")["type"] = "connector.erp"
    saved, left_out = secrets.conceal(settings, copy.deepcopy(masked), other)
    assert left_out and "token" not in node(saved, "call")["config"]["auth"]


def test_a_client_cannot_pass_ciphertext_off_as_a_stored_secret():
    """What a client sends is plain text, even when it looks like a stored secret (of another workspace, say)."""
    settings = Settings()
    stored, _ = secrets.conceal(settings, flow())
    foreign = node(stored, "call")["config"]["auth"]["token"]
    doc = flow()
    node(doc, "basic")["config"]["auth"]["password"] = foreign
    saved, _ = secrets.conceal(settings, doc)
    assert secrets.reveal(settings, node(saved, "basic")["config"]["auth"]["password"]) == foreign


def test_a_plan_decrypts_and_without_the_key_refuses():
    settings = Settings()
    stored, _ = secrets.conceal(settings, flow())
    plan = compile(stored, "ws", "f-secret", 1, settings.default_retry, settings=settings)
    call = plan.nodes["call"].prepared
    assert call.credentials["token"].source == TOKEN
    assert call.headers["Authorization"].source == HEADER
    assert plan.nodes["hook"].prepared["hmac_secret"] == HMAC
    assert plan.document["nodes"][1]["config"]["auth"]["token"].startswith(secrets.PREFIX)
    with pytest.raises(PlanError, match="no key"):
        compile(stored, "ws", "f-secret", 1, settings.default_retry)
    with pytest.raises(PlanError, match="CROSSDOCK_SECRET_KEY_PREVIOUS"):
        compile(stored, "ws", "f-secret", 1, settings.default_retry, settings=Settings(secret_key="another"))


def test_drafts_and_versions_store_secrets_encrypted_and_show_the_mask(store, workspace):
    created = drafts.create(store, workspace, flow())
    shown = drafts.detail(created)["flow"]
    assert node(shown, "call")["config"]["auth"]["token"] == MASK
    # the editor sends back what it was shown, with one change of its own
    node(shown, "call")["config"]["url"] = "http://erp.example/v2/orders"
    saved = drafts.save(store, workspace, "f-secret", shown, created.revision)
    assert not errors(drafts.check(saved.document))
    version = deployments.deploy(store, workspace, "f-secret", saved.document)
    with store.sessions() as s:
        rows = [s.scalar(select(Flow.document).where(Flow.workspace == workspace, Flow.id == "f-secret")),
                s.scalar(select(FlowVersion.document).where(FlowVersion.workspace == workspace,
                                                            FlowVersion.flow_id == "f-secret"))]
    for doc in rows:
        assert not any(p in text(doc) for p in PLAIN)
    plan = compile_for(store, deployments.document(store, workspace, "f-secret", version), workspace, "f-secret",
                       version)
    assert plan.nodes["call"].prepared.credentials["token"].source == TOKEN
    assert plan.nodes["call"].prepared.url.source == "http://erp.example/v2/orders"
    assert plan.nodes["basic"].prepared.credentials["password"].source == PASSWORD


def test_a_masked_secret_with_nothing_to_keep_is_a_problem_of_the_draft(store, workspace):
    created = drafts.create(store, workspace, secrets.masked(secrets.conceal(Settings(), flow())[0]))
    problems = drafts.detail(created)["problems"]
    assert {(p["node"], p["code"]) for p in problems if p["severity"] == "error"} >= {("call", "config_invalid")}
    assert "token" not in node(created.document, "call")["config"]["auth"]


def test_exports_and_kept_templates_carry_no_secret(store, workspace):
    drafts.create(store, workspace, flow())
    bundle = templates.export(store, workspace, "f-secret")
    assert not any(p in text(bundle) for p in PLAIN) and secrets.PREFIX not in text(bundle)
    # a bundle that carries secrets (written by hand) installs them encrypted and keeps none in the gallery
    handmade = {**bundle, "id": "t-handmade", "flow": flow("f-handmade")}
    templates.import_bundle(store, workspace, handmade, deploy=False)
    kept = templates.get(store, workspace, "t-handmade")
    assert not any(p in text(kept) for p in PLAIN)
    installed = drafts.get(store, workspace, "f-handmade").document
    assert secrets.reveal(store.settings, node(installed, "call")["config"]["auth"]["token"]) == TOKEN


def test_rotation_re_encrypts_drafts_and_versions_and_encrypts_plain_ones_from_before(store, workspace):
    f = drafts.create(store, workspace, flow())
    deployments.deploy(store, workspace, "f-secret", f.document)
    legacy = flow("f-legacy")  # stored before secrets were encrypted
    drafts.create(store, workspace, legacy)
    with store.sessions.begin() as s:
        s.execute(update(Flow).where(Flow.workspace == workspace, Flow.id == "f-legacy").values(document=legacy))
    old = store.settings.secret_key
    store.settings = dataclasses.replace(store.settings, secret_key="new-key-1", previous_secret_keys=(old,))
    assert secrets.rotate(store, workspace) == 3
    store.settings = dataclasses.replace(store.settings, previous_secret_keys=())  # the old key retired
    with store.sessions() as s:
        docs = [*s.scalars(select(Flow.document).where(Flow.workspace == workspace)),
                *s.scalars(select(FlowVersion.document).where(FlowVersion.workspace == workspace))]
    assert len(docs) == 3
    for doc in docs:
        assert not any(p in text(doc) for p in PLAIN)
        assert secrets.reveal(store.settings, node(doc, "call")["config"]["auth"]["token"]) == TOKEN
        assert secrets.reveal(store.settings, node(doc, "hook")["config"]["hmac_secret"]) == HMAC


def test_rotation_refuses_a_secret_no_key_decrypts(store, workspace):
    drafts.create(store, workspace, flow())
    store.settings = dataclasses.replace(store.settings, secret_key="unrelated", previous_secret_keys=())
    with pytest.raises(secrets.SecretError, match="neither the current nor a previous"):
        secrets.rotate(store, workspace)


def test_a_save_sending_the_mask_for_another_flows_node_keeps_nothing(store, workspace):
    drafts.create(store, workspace, flow("f-one"))
    other = secrets.masked(drafts.get(store, workspace, "f-one").document)
    other["id"] = other["name"] = "f-two"
    with pytest.raises(ApiError):  # the mask never reaches into another flow: f-two does not exist
        drafts.save(store, workspace, "f-two", other, None)
    created = drafts.create(store, workspace, other)
    assert "token" not in node(created.document, "call")["config"]["auth"]


@pytest.mark.parametrize("extra", [{"database_url": "postgresql://db/crossdock"}, {"redis_url": "redis://r:6379/0"}])
@pytest.mark.parametrize("key", [DEV_SECRET_KEY, ""])
def test_production_refuses_the_built_in_or_an_empty_key(extra, key):
    with pytest.raises(InsecureSettings, match="CROSSDOCK_SECRET_KEY"):
        check_production(Settings(secret_key=key, **extra))


def test_production_with_its_own_key_and_the_embedded_install_start():
    check_production(Settings(secret_key="a-long-random-key", database_url="postgresql://db/x", redis_url="redis://r"))
    check_production(Settings())  # embedded, one command: the built-in key is fine on a laptop
